"""The deployment check's stability mode (`check MODEL --stability MINUTES`): a real llama-server kept busy, its
intervals, memory slopes and recovery after a stopped request, in JSON and in Chinese; bad minutes and a dead
server each one clear line."""

from __future__ import annotations

import json

import pytest

from request_llms.stability import slope_per_hour
from tests.support.helpers import cli, cli_env
from tests.support.servers.running import free_port

MODEL = "llamacpp-gemma-270m"


def test_the_slope_is_per_hour_and_needs_three_points():
    assert slope_per_hour([(0, 100.0), (1800, 110.0), (3600, 120.0)]) == pytest.approx(20.0)
    assert slope_per_hour([(0, 5.0), (60, 5.0), (120, 5.0)]) == 0
    assert slope_per_hour([(0, 1.0), (10, 2.0)]) is None


@pytest.mark.parametrize("minutes", ["0", "-1", "1441", "soon"])
def test_minutes_out_of_bounds_are_refused_before_anything_is_asked(tmp_path, minutes):
    env = cli_env(tmp_path, VLLM_API_BASE=f"http://127.0.0.1:{free_port()}/v1")
    done = cli(env, "check", "vllm-x", "--stability", minutes)
    assert done.returncode == 2 and "1440" in done.stderr and "Traceback" not in done.stderr


def test_a_dead_server_ends_the_run_at_once_with_its_line(tmp_path):
    done = cli(cli_env(tmp_path, VLLM_API_BASE=f"http://127.0.0.1:{free_port()}/v1"), "check", "vllm-m", "--stability", "5")
    assert done.returncode == 3 and "VLLM_API_BASE" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.servers
def test_a_busy_server_holds_and_recovers_after_a_stopped_request(tmp_path, llama_server):
    env = cli_env(tmp_path, LOCAL_SERVER_URLS=json.dumps({"llamacpp": f"{llama_server.base_url}/v1"}))
    done = cli(env, "check", MODEL, "--stability", "0.4", "--concurrency", "2", "--json", timeout=180)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["intervals"]) == 10 and report["failed"] == 0 and report["errors"] == {}
    assert report["answered"] == sum(part["answered"] for part in report["intervals"]) >= 10
    assert all(part["latency_p50"] > 0 for part in report["intervals"] if part["answered"])
    assert report["recovery"]["answered"] and 10 <= report["recovery"]["stopped_after_s"] <= 16
    samples = report["memory"]
    assert len(samples) >= 10 and all(own > 20 and server > 100 for _, own, server in samples)
    assert report["own_slope_mib_per_hour"] is not None and report["server_slope_mib_per_hour"] is not None

    chinese = cli({**env, "LANGUAGE": "zh"}, "check", MODEL, "--stability", "0.15", "--concurrency", "1", timeout=120)
    assert chinese.returncode == 0, chinese.stderr
    assert "稳定性测试" in chinese.stdout and "个成功，0 个失败" in chinese.stdout and "恢复：" in chinese.stdout
    assert "服务进程" in chinese.stdout and "MiB/小时" in chinese.stdout
