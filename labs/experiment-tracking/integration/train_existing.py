"""A training script as many projects have one: no tracking at all.

    uv run python integration/train_existing.py

It prints its scores and forgets everything else. train_existing_tracked.py
is this file plus the lines marked `# + mlflow`; tests/test_integration.py
checks that nothing else differs.
"""

from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

C = 0.5

x, y = load_wine(return_X_y=True, as_frame=True)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.25, random_state=42, stratify=y
)

model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
model.fit(x_train, y_train)

accuracy = accuracy_score(y_test, model.predict(x_test))
loss = log_loss(y_test, model.predict_proba(x_test))
print(f"test accuracy {accuracy:.4f}, test log loss {loss:.4f}")
