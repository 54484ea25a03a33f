"""train_existing.py with tracking: the same file plus the lines marked `# + mlflow`.

    export MLFLOW_TRACKING_URI=http://127.0.0.1:5000   # which server
    export MLFLOW_EXPERIMENT_NAME=wine-existing        # which experiment
    uv run python integration/train_existing_tracked.py

The script names neither the server nor the experiment: the two variables
do, so the same file logs to your laptop's server, a team server, or the
server of a test or a CI job, unchanged.
"""

import mlflow  # + mlflow
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

C = 0.5

# fit() logs the estimator's params, its scores on the training data, the
# model and the training data into the run started here. MLflow ends the run
# when the script exits, as FINISHED even after a crash; indent the training
# under `with mlflow.start_run():` instead and a crash marks it FAILED.
mlflow.sklearn.autolog()  # + mlflow
mlflow.start_run()  # + mlflow

x, y = load_wine(return_X_y=True, as_frame=True)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.25, random_state=42, stratify=y
)

model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
model.fit(x_train, y_train)

accuracy = accuracy_score(y_test, model.predict(x_test))
loss = log_loss(y_test, model.predict_proba(x_test))
mlflow.log_metrics({"test_accuracy": accuracy, "test_log_loss": loss})  # + mlflow
print(f"test accuracy {accuracy:.4f}, test log loss {loss:.4f}")
