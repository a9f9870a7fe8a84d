from saidao.cli import main

main()
