"""fastdrive_train: trainer and exporter for ReconPruner, the visual-token pruner of FastDriveVLA."""

from ._version import __version__
from .config import PrunerConfig
from .pruner import ReconPruner

__all__ = ["PrunerConfig", "ReconPruner", "__version__"]
