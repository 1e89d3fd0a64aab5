"""Processing stages: the links of the chain from raw samples to the sway stream.

A stage is configured once with the stream it will receive and says what it produces; then it
turns each chunk into an output chunk, carrying its own state (filters, resamplers) across
chunks. Stages run on the pipeline's acquisition thread, one chunk at a time: keep them
allocation-light and hand whole chunks to Numba kernels, never single samples.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from nmr_balance.stream import SampleBlock, StreamInfo


@runtime_checkable
class Stage(Protocol):
    """Interface of a processing stage."""

    def configure(self, info: StreamInfo) -> StreamInfo:
        """Prepare for a stream described by ``info``; return the output's description."""
        ...

    def process(self, block: SampleBlock) -> SampleBlock:
        """Turn one input chunk into an output chunk (may be shorter, longer or empty)."""
        ...

    def reset(self) -> None:
        """Forget all state (filter memory, partial windows), e.g. after a gap."""
        ...


class PassThrough:
    """Forwards samples unchanged."""

    def configure(self, info: StreamInfo) -> StreamInfo:
        return info

    def process(self, block: SampleBlock) -> SampleBlock:
        return block

    def reset(self) -> None:
        pass


def configure_chain(stages: list[Stage], info: StreamInfo) -> StreamInfo:
    """Configure ``stages`` in order; return the description of the chain's output."""
    for stage in stages:
        info = stage.configure(info)
    return info


def run_chain(stages: list[Stage], block: SampleBlock) -> SampleBlock:
    for stage in stages:
        if len(block) == 0:
            break
        block = stage.process(block)
    return block
