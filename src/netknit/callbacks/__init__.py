"""Callbacks: hooks into `fit()`, `evaluate()` and `predict()`, as in `keras.callbacks`."""

from .backup_and_restore import BackupAndRestore as BackupAndRestore
from .callback import Callback as Callback
from .callback import CallbackList as CallbackList
from .csv_logger import CSVLogger as CSVLogger
from .early_stopping import EarlyStopping as EarlyStopping
from .history import History as History
from .lambda_callback import LambdaCallback as LambdaCallback
from .learning_rate_scheduler import LearningRateScheduler as LearningRateScheduler
from .model_checkpoint import ModelCheckpoint as ModelCheckpoint
from .monitor import MonitorCallback as MonitorCallback
from .progbar_logger import ProgbarLogger as ProgbarLogger
from .reduce_lr_on_plateau import ReduceLROnPlateau as ReduceLROnPlateau
from .remote_monitor import RemoteMonitor as RemoteMonitor
from .swap_ema_weights import SwapEMAWeights as SwapEMAWeights
from .tensorboard import TensorBoard as TensorBoard
from .terminate_on_nan import TerminateOnNaN as TerminateOnNaN

__all__ = [
    "BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History",
    "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint", "MonitorCallback",
    "ProgbarLogger", "ReduceLROnPlateau", "RemoteMonitor", "SwapEMAWeights", "TensorBoard",
    "TerminateOnNaN",
]
