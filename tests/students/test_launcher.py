"""``training.launcher``: the training node trains in child processes (torchrun / accelerate).

The cheap tests check the setting, the command and the plumbing (the child replaced by the
training entry point run in this process); the ``trains`` tests start real processes: two
CPU ranks (gloo) on a tiny T5 against one process on the same data.
"""

from __future__ import annotations

import json
import shlex
import socket
import sys
from pathlib import Path

import pandas as pd
import pytest

from zeroshot_distill.students import (
    StudentBundle,
    TrainingConfig,
    TrainingConfigError,
    accuracy,
    predict_labels,
    train_student_model,
)
from zeroshot_distill.students import launcher as launcher_module
from zeroshot_distill.students import train as train_cli
from zeroshot_distill.students.launcher import LauncherConfig, LaunchError, run_streaming
from zeroshot_distill.tasks.spec import TaskSpec

TASK = {
    "name": "sentiment",
    "kind": "classification",
    "description": "Sentiment",
    "input_fields": ["text"],
    "labels": ["positive", "negative"],
}
NOUNS = ["film", "meal", "book", "hotel", "song", "car", "phone", "trip", "show", "game", "shirt"]
TINY = {
    "d_model": 32,
    "d_ff": 64,
    "d_kv": 8,
    "num_heads": 4,
    "num_layers": 1,
    "dropout_rate": 0.0,
}
EPOCHS = 12
N_TRAIN = 40
PARAMS = {
    "student": {"architecture": TINY},
    "batch_size": 4,
    "num_epochs": EPOCHS,
    "learning_rate": 3e-3,
    "early_stopping_patience": None,  # every epoch runs: examples seen = n_train x epochs
    "precision": "fp32",
    "progress_bar": False,
    "max_rationale_length": 64,
    "num_threads": 1,
    "logging_steps": 5,
}


def _rows(split: str, n: int, offset: int) -> list[dict]:
    """Reviews whose sentiment word gives the label away; a third without a rationale."""
    rows = []
    for i in range(n):
        label = "positive" if i % 2 else "negative"
        word = ["awful", "great"][i % 2] if i % 4 < 2 else ["bad", "good"][i % 2]
        text = f"the {NOUNS[(i + offset) % len(NOUNS)]} was {word}"
        rationale = f"it says {word}" if split == "train" and i % 3 else None
        rows.append(
            {
                "id": f"{split}{i}",
                "split": split,
                "text": text,
                "input": f"text: {text}",
                "label": label,
                "label_target": label,
                "rationale_target": rationale,
            }
        )
    return rows


def _training_set() -> pd.DataFrame:
    return pd.DataFrame(_rows("train", N_TRAIN, 0) + _rows("valid", 16, 3) + _rows("test", 16, 5))


# ------------------------------------------------------------------------ the setting
@pytest.mark.parametrize(
    ("launcher", "field"),
    [
        ({}, r"training\.launcher: Value error, set exactly one of `nproc_per_node`"),
        ({"nproc_per_node": 0}, r"training\.launcher\.nproc_per_node"),
        ({"nproc_per_node": 2, "backend": "mpi"}, r"training\.launcher\.backend"),
        ({"nproc_per_node": 2, "master_port": 70000}, r"training\.launcher\.master_port"),
        ({"nproc_per_node": 2, "timeout_s": 0}, r"training\.launcher\.timeout_s"),
        ({"nproc_per_node": 2, "procs": 2}, r"training\.launcher\.procs"),
        ({"nproc_per_node": 2, "accelerate_config": "a.yaml"}, r"exactly one of"),
        ({"accelerate_config": "a.yaml", "master_port": 1234}, r"belong in that file"),
    ],
)
def test_bad_launcher_settings_name_the_field(launcher, field):
    with pytest.raises(TrainingConfigError, match=field):
        TrainingConfig.from_params({**PARAMS, "launcher": launcher})


def test_launcher_defaults_to_training_in_process():
    assert TrainingConfig.from_params(PARAMS).launcher is None
    config = TrainingConfig.from_params({**PARAMS, "launcher": {"nproc_per_node": 2}})
    assert config.launcher == LauncherConfig(nproc_per_node=2)
    assert config.launcher.ddp_backend is None  # auto: accelerate picks nccl or gloo


def test_commands_run_this_interpreter_under_the_launcher():
    args = ["--output", "out"]
    torchrun = LauncherConfig(nproc_per_node=3).command(args)
    assert torchrun[:5] == [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=3",
        "--standalone",
    ]
    assert torchrun[-4:] == ["-m", "zeroshot_distill.students.train", "--output", "out"]
    fixed = LauncherConfig(nproc_per_node=2, master_port=29555).command(args)
    assert "--master_port=29555" in fixed and "--standalone" not in fixed
    accelerate = LauncherConfig(accelerate_config="conf/local/accelerate.yaml").command(args)
    assert accelerate[1:5] == [
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        "conf/local/accelerate.yaml",
    ]


def test_launch_checks_fail_before_any_work(tmp_path, monkeypatch):
    missing = LauncherConfig(accelerate_config=str(tmp_path / "nope.yaml"))
    with pytest.raises(LaunchError, match=r"training\.launcher\.accelerate_config: .*nope\.yaml"):
        missing.check_startable()
    monkeypatch.setattr("torch.cuda.device_count", lambda: 0)
    with pytest.raises(LaunchError, match=r"training\.launcher\.backend: nccl needs one GPU"):
        LauncherConfig(nproc_per_node=2, backend="nccl").check_startable()
    LauncherConfig(nproc_per_node=2).check_startable()  # CPU processes
    monkeypatch.setattr("torch.cuda.device_count", lambda: 1)
    with pytest.raises(LaunchError, match=r"nproc_per_node=2 but 1 GPU\(s\) are visible"):
        LauncherConfig(nproc_per_node=2).check_startable()


def test_bad_parameters_fail_in_the_node_before_launching(monkeypatch):
    monkeypatch.setattr(launcher_module, "run_streaming", _no_launch)
    with pytest.raises(TrainingConfigError, match=r"training\.alpha"):
        train_student_model(
            _training_set(), {**PARAMS, "alpha": 2, "launcher": {"nproc_per_node": 2}}, TASK, 0
        )
    no_valid = _training_set().query("split != 'valid'")
    with pytest.raises(TrainingConfigError, match="no labeled valid rows"):
        train_student_model(no_valid, {**PARAMS, "launcher": {"nproc_per_node": 2}}, TASK, 0)


def _no_launch(command):
    raise AssertionError(f"launched {command}")


def test_a_failing_child_raises_with_exit_code_stderr_tail_and_command(caplog):
    script = (
        "import sys; print('rank 0 says hello'); "
        "print('\\n'.join(f'noise {i}' for i in range(40)), file=sys.stderr); "
        "print('ValueError: the real reason', file=sys.stderr); sys.exit(3)"
    )
    command = [sys.executable, "-c", script]
    with (
        caplog.at_level("INFO", logger="zeroshot_distill.students.launcher"),
        pytest.raises(LaunchError) as failure,
    ):
        run_streaming(command)
    message = str(failure.value)
    assert message.startswith(
        "the training processes failed with exit code 3: ValueError: the real"
    )
    assert "ValueError: the real reason" in message and "noise 39" in message
    assert "noise 0\n" not in message  # only the tail
    assert shlex.join(command) in message
    assert "rank 0 says hello" in caplog.text  # stdout streamed into the log as it came


def test_train_cli_params_file_excludes_conf_env_and_params(tmp_path):
    with pytest.raises(SystemExit):
        train_cli.main(
            [
                "--training-set",
                "t.parquet",
                "--output",
                "out",
                "--params-file",
                "p.json",
                "--env",
                "openai",
            ]
        )
    (tmp_path / "p.json").write_text(json.dumps({"training": {}}))
    with pytest.raises(SystemExit, match=r"needs the mappings \['task'\]"):
        train_cli.read_params_file(tmp_path / "p.json")


# --------------------------------------------------------- plumbing, child in this process
@pytest.mark.trains
def test_node_hands_the_child_only_training_task_and_seed_and_cleans_up(monkeypatch):
    """The child replaced by the training entry point in this process (one rank)."""
    seen: dict = {}

    def child_in_process(command):
        train_args = command[command.index("zeroshot_distill.students.train") + 1 :]
        files = dict(zip(train_args[::2], train_args[1::2], strict=True))
        seen["files"] = files
        seen["params"] = json.loads(Path(files["--params-file"]).read_text())
        seen["rows"] = len(pd.read_parquet(files["--training-set"]))
        train_cli.main(train_args)

    monkeypatch.setattr(launcher_module, "run_streaming", child_in_process)
    params = {**PARAMS, "num_epochs": 1, "launcher": {"nproc_per_node": 2}}
    student, history, metrics = train_student_model(_training_set(), params, TASK, 5)

    assert set(seen["params"]) == {"training", "task", "seed"}
    assert seen["params"]["seed"] == 5 and seen["params"]["task"] == TASK
    assert seen["params"]["training"]["launcher"] == {"nproc_per_node": 2}
    assert seen["params"]["training"]["progress_bar"] is False
    assert seen["rows"] == len(_training_set())
    assert not any(Path(path).exists() for path in seen["files"].values())  # temp files gone
    assert isinstance(student, StudentBundle) and student.info["n_train"] == N_TRAIN
    assert student.info["launch_wall_time_s"] > 0
    assert set(history["kind"]) == {"train", "eval"}
    assert metrics["n_train"]["value"] == N_TRAIN and metrics["valid_accuracy"]


# -------------------------------------------------------------- real child processes
def _test_accuracy(student: StudentBundle) -> float:
    rows = _training_set().query("split == 'test'").to_dict("records")
    predicted = predict_labels(
        student.model, student.tokenizer, TaskSpec.from_params(TASK), rows, 16
    )
    return accuracy(predicted, [r["label"] for r in rows])


@pytest.fixture(scope="module")
def one_process():
    student, _, _ = train_student_model(_training_set(), PARAMS, TASK, 42)
    return student


@pytest.mark.trains
def test_two_cpu_processes_see_each_example_once_per_epoch_and_learn_as_one(one_process):
    params = {**PARAMS, "launcher": {"nproc_per_node": 2, "backend": "gloo", "timeout_s": 300}}
    student, history, metrics = train_student_model(_training_set(), params, TASK, 42)

    info = student.info
    assert info["world_size"] == 2 and one_process.info["world_size"] == 1
    assert info["examples_seen"] == N_TRAIN * EPOCHS == one_process.info["examples_seen"]
    # 40 rows in batches of 4 on 2 ranks: 5 steps an epoch instead of 10
    assert info["final_step"] == EPOCHS * 5 and one_process.info["final_step"] == EPOCHS * 10
    assert len(history[history["kind"] == "eval"]) == EPOCHS
    assert metrics["train_samples_per_s"]["value"] > 0
    # the student rank 0 saved loads, reads labels, and learned the task like one process
    single, double = _test_accuracy(one_process), _test_accuracy(student)
    assert single >= 0.75 and double >= 0.75, (single, double)
    assert abs(single - double) <= 0.25
    assert info["best_valid_accuracy"] >= 0.75


@pytest.mark.trains
def test_a_failing_child_surfaces_its_own_error(tmp_path):
    params = {
        **PARAMS,
        "student": {"name_or_path": str(tmp_path / "no-such-student"), "tokenizer": "byt5"},
        "launcher": {"nproc_per_node": 2},
    }
    with pytest.raises(LaunchError) as failure:
        train_student_model(_training_set(), params, TASK, 0)
    message = str(failure.value)
    # the rank's own exception first, then torchrun's summary and the command
    assert message.startswith(
        "the training processes failed with exit code 1: StudentLoadError: student model "
        f"directory '{tmp_path / 'no-such-student'}' does not exist"
    )
    assert "torch.distributed.run --nproc_per_node=2" in message


@pytest.mark.trains
@pytest.mark.slow
def test_accelerate_launch_with_a_config_file(tmp_path):
    # accelerate starts several local processes for `multi_gpu` only (its `MULTI_CPU` needs
    # mpirun); without a GPU those processes run on the CPU with gloo.
    config = tmp_path / "accelerate.yaml"
    config.write_text(
        "compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nnum_processes: 2\n"
        "num_machines: 1\nmachine_rank: 0\nmixed_precision: 'no'\nuse_cpu: false\n"
        f"main_process_port: {_free_port()}\n"
    )
    params = {**PARAMS, "num_epochs": 2, "launcher": {"accelerate_config": str(config)}}
    student, _, _ = train_student_model(_training_set(), params, TASK, 42)
    assert student.info["world_size"] == 2
    assert student.info["examples_seen"] == N_TRAIN * 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Every family, full or with adapters, goes through the same launcher: an encoder student and
# a decoder-only student with LoRA on 2 CPU ranks (a few epochs: plumbing, not accuracy).
TINY_BERT = {
    "model_type": "bert",
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 4,
    "intermediate_size": 64,
}
OTHER_FAMILIES = {
    # a bare encoder on a task with labels: a head for the label (family auto)
    "classifier": {"student": {"architecture": TINY_BERT, "decoder": {"num_hidden_layers": 1}}},
    "encoder": {
        "student": {
            "architecture": TINY_BERT,
            "decoder": {"num_hidden_layers": 1},
            "family": "encoder",
        }
    },
    "decoder_only_lora": {
        "student": {
            "architecture": {
                "model_type": "qwen2",
                "hidden_size": 32,
                "intermediate_size": 64,
                "num_hidden_layers": 1,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
            }
        },
        "peft": {"method": "lora", "r": 4, "lora_alpha": 8, "target_modules": "all-linear"},
    },
}


@pytest.mark.trains
@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(OTHER_FAMILIES))
def test_encoder_and_decoder_lora_students_train_on_two_processes(family):
    epochs = 2
    params = {
        **PARAMS,
        **OTHER_FAMILIES[family],
        "num_epochs": epochs,
        "launcher": {"nproc_per_node": 2, "backend": "gloo", "timeout_s": 300},
    }
    student, _, _ = train_student_model(_training_set(), params, TASK, 42)
    info = student.info
    assert info["world_size"] == 2
    assert info["examples_seen"] == N_TRAIN * epochs
    expected = {"encoder": "seq2seq", "classifier": "classifier"}.get(family, "causal_lm")
    assert info["family"] == expected
    if family in ("encoder", "classifier"):
        assert info["student_kind"] == family
    else:
        assert info["peft"]["r"] == 4
        assert info["num_trainable_parameters"] < info["num_parameters"]
    rows = _rows("test", 16, 5)
    predicted = predict_labels(student.model, student.tokenizer, TaskSpec.from_params(TASK), rows)
    assert all(p in ("positive", "negative") for p in predicted)  # label scoring: always valid
