import pytest

#: Notebooks (collected by nbmake, so they cannot carry a marker) that belong to `make test-all`:
#: compare_methods runs a training sweep in subprocesses (`train.py -m`).
SLOW_NOTEBOOKS = {"compare_methods.ipynb"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in SLOW_NOTEBOOKS:
            item.add_marker(pytest.mark.slow)
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow (make test-all)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
