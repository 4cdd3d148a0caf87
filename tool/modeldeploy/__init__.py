"""modeldeploy: guard KServe model rollouts in GitOps repos."""

__version__ = "0.1.0"
