"""One demo launcher for the package (its first start builds both nodes: the costly part), shared by the journey
and launcher tests; the launcher tests that stop or break it run last (test_demo_launcher.py sorts after)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.demo.launcher_proc import DemoProcess
from tests.eidas_node.cdp import CHROMIUM, Browser

needs_chromium = pytest.mark.skipif(shutil.which(CHROMIUM) is None and not os.environ.get("CI"),
                                    reason="chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    process = DemoProcess(tmp_path_factory.mktemp("demo") / "data").start()
    try:
        yield process
    finally:
        if process.proc is not None and process.proc.poll() is None:
            process.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    started = await Browser(("--ignore-certificate-errors",)).start()  # the preview space's dev certificate
    try:
        yield started
    finally:
        await started.close()
