"""The article lifecycle (SPEC §10): scheduled, withdrawn, hidden. Pure decisions live here;
the SQL that applies them lives in ``feedsvc.store.lifecycle``."""
