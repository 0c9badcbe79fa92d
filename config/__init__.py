"""Configuration: typed settings from the environment and the organisation's data files."""

from config.data import Category, Grid, Level, Location, OrgData, load_org_data
from config.settings import ConfigError, Settings, load_settings

__all__ = [
    "Category",
    "ConfigError",
    "Grid",
    "Level",
    "Location",
    "OrgData",
    "Settings",
    "load_org_data",
    "load_settings",
]
