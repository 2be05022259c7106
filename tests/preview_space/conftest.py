"""The two-node preview network, shared by the end-to-end and browser tests of this package (slow)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.oots.oots_net import SimulatorThread
from tests.preview_space.preview_net import PreviewNet, start_net, stop_net


@pytest.fixture(scope="package")
def preview_net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PreviewNet]:
    simulator = SimulatorThread().start()
    net = start_net(tmp_path_factory.mktemp("preview-net"), simulator)
    try:
        yield net
    finally:
        stop_net(net)
        simulator.stop()
