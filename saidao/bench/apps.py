from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmarks (`saidao bench …`) and the peer endpoints they compare with. Developer
    tooling only: nothing here is shown to workers or officers, so nothing is translated."""

    name = "saidao.bench"
    label = "bench"
    verbose_name = "benchmarks"
