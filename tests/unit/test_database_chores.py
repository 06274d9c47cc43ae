"""The suite's table list (`tests.database.TABLES`) names every table of the models, so no
test inherits another's rows and a snapshot misses none."""

from __future__ import annotations

from tortoise.models import Model

import models
from tests.database import TABLES


def test_every_model_table_is_emptied_and_snapshotted() -> None:
    tables = {
        model._meta.db_table
        for model in vars(models).values()
        if isinstance(model, type) and issubclass(model, Model) and model is not Model
    }
    assert set(TABLES) == tables
    assert len(TABLES) == len(tables)
