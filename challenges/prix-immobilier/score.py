"""The challenge's scorer (trusted, written by the organisers): predictions and labels to metrics.

Called by the platform, in the grading sandbox, with the predictions already checked (every id of
the test set once, finite numbers): `score(predictions, labels)` with two dicts id -> value.
"""

import math


def score(predictions: dict[str, float], labels: dict[str, float]) -> dict[str, float]:
    ids = list(labels)
    errors = [predictions[i] - labels[i] for i in ids]
    mape = 100 * sum(abs(e) / labels[i] for e, i in zip(errors, ids)) / len(ids)
    rmse = math.sqrt(sum(e * e for e in errors) / len(ids))
    return {"mape": mape, "rmse": rmse}
