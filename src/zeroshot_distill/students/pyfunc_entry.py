"""The MLflow "model from code" file of :class:`~zeroshot_distill.students.pyfunc.StudentPyfunc`.

MLflow stores this file with the model and runs it on load (no pickled Python object).
"""

from mlflow.models import set_model

from zeroshot_distill.students.pyfunc import StudentPyfunc

set_model(StudentPyfunc())
