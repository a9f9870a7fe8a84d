"""Region is registered read-only with the scoped admin site in ``saidao.orgs.admin``,
which owns the site (regions sits above orgs and must not import it)."""
