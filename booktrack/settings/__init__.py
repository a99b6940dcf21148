"""Default settings module (`booktrack.settings`): the environment decides everything."""

from .base import *
