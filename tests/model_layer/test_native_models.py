"""A user with their own weights: chatglm4 (glm and glm4 layouts), chatglm3 / chatglm (remote code), qwen-local,
a generic folder and a LoRA adapter, each loaded from tiny offline models in a worker process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from request_llms.chat import complete
from request_llms.errors import ConfigError, WeightsMissing
from request_llms.model_spec import parse_model
from request_llms.native.plan import resolve_plan
from request_llms.request import ChatOptions
from request_llms.runtime import runtime_of
from tests.support.helpers import make_config
from tests.support.servers.provision import cache_root

pytestmark = pytest.mark.servers  # native models run in worker processes

SYSTEM = "Be brief."
HISTORY = ["你好", "hello there"]
OPTIONS = ChatOptions(temperature=0, max_tokens=6)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def folders():
    """The tiny models, built in a child process so that this one never imports torch."""
    root = cache_root() / "tiny-models"
    script = f"""
import json
from pathlib import Path
from tests.support import native_models as m
root = Path({str(root)!r})
print(json.dumps({{
    "glm": str(m.glm_model(root / "glm")),
    "glm4": str(m.glm4_model(root / "glm4")),
    "qwen2": str(m.qwen2_model(root / "qwen2")),
    "qwen3": str(m.qwen3_thinking_model(root / "qwen3")),
    "tinychat": str(m.remote_code_model(root / "tinychat")),
    "lora": str(m.lora_adapter(root / "qwen2", root / "qwen2-lora")),
}}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return {name: Path(path) for name, path in json.loads(done.stdout.strip().splitlines()[-1]).items()}


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    made = []

    def make(**environ):
        config = make_config(tmp_path_factory.mktemp("cfg"), LOCAL_MODEL_DEVICE="cpu", **environ)
        made.append(config)
        return config

    yield make
    for config in made:
        runtime_of(config).backend_for(parse_model("chatglm4")).shutdown()


def reference(folder, messages, remote_code=False, lora="", enable_thinking=None) -> tuple[int, str]:
    """What the model itself gives in one plain process: prompt length and greedy text for the same messages."""
    script = f"""
import json, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
folder, messages = {str(folder)!r}, json.loads({json.dumps(json.dumps(messages))})
tok = AutoTokenizer.from_pretrained(folder, trust_remote_code={remote_code})
model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code={remote_code}, dtype=torch.bfloat16)
if {lora!r}:
    from peft import PeftModel
    model = PeftModel.from_pretrained(model, {lora!r})
extra = {{}} if {enable_thinking!r} is None else {{"enable_thinking": {enable_thinking!r}}}
ids = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, **extra)["input_ids"]
out = model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long), max_new_tokens=6, do_sample=False,
                     pad_token_id=tok.pad_token_id)
print(json.dumps([len(ids), tok.decode(out[0, len(ids):], skip_special_tokens=True)]))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env={"HF_HUB_OFFLINE": "1", "PATH": ""}
    )
    assert done.returncode == 0, done.stderr[-2000:]
    count, text = json.loads(done.stdout.strip().splitlines()[-1])
    return count, text


def messages_for(prompt: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": HISTORY[0]},
        {"role": "assistant", "content": HISTORY[1]},
        {"role": "user", "content": prompt},
    ]


@pytest.mark.parametrize("layout", ["glm", "glm4"])
def test_chatglm4_loads_the_native_glm_layouts_and_history_reaches_the_model(folders, configs, layout):
    config = configs(CHATGLM_LOCAL_MODEL_PATH=str(folders[layout]))
    plan = resolve_plan(parse_model("chatglm4"), config)
    assert plan.remote_code is False
    answer = complete("chatglm4", "what is new?", history=HISTORY, system=SYSTEM, options=OPTIONS, config=config)
    prompt_tokens, text = reference(folders[layout], messages_for("what is new?"))
    assert answer.usage.prompt_tokens == prompt_tokens
    assert answer.text == text
    shorter = complete("chatglm4", "what is new?", options=OPTIONS, config=config)
    assert shorter.usage.prompt_tokens < prompt_tokens


@pytest.mark.parametrize("name", ["chatglm3", "chatglm"])
def test_chatglm3_and_chatglm_run_the_folders_own_code_with_its_own_quantize(folders, configs, name):
    config = configs(CHATGLM_LOCAL_MODEL_PATH=str(folders["tinychat"]), LOCAL_MODEL_QUANT="INT4")
    assert resolve_plan(parse_model(name), config).remote_code is True
    answer = complete(name, "hi", history=HISTORY, system=SYSTEM, options=OPTIONS, config=config)
    assert answer.usage.completion_tokens >= 1
    worker = next(iter(runtime_of(config).backend_for(parse_model(name)).workers.values()))
    assert worker.info["quant"] == "INT4" and worker.info["method"] == "the model's own quantize(4)"


def test_qwen_local_and_a_generic_folder_load_the_same_weights(folders, configs):
    config = configs(QWEN_LOCAL_MODEL_PATH=str(folders["qwen2"]), LOCAL_MODEL_PATHS=json.dumps({"mine": str(folders["qwen2"])}))
    qwen = complete("qwen-local", "hi", history=HISTORY, system=SYSTEM, options=OPTIONS, config=config)
    mine = complete("local-mine", "hi", history=HISTORY, system=SYSTEM, options=OPTIONS, config=config)
    prompt_tokens, text = reference(folders["qwen2"], messages_for("hi"))
    assert qwen.text == mine.text == text and qwen.usage.prompt_tokens == prompt_tokens


def test_a_thought_the_template_opens_stays_thinking_and_think_false_turns_it_off(folders, configs):
    config = configs(LOCAL_MODEL_PATHS=json.dumps({"thinker": str(folders["qwen3"])}))
    thinking = complete("local-thinker", "hi", options=OPTIONS, config=config)
    assert thinking.thinking.strip() and thinking.text == "", "the opened thought leaked into the answer"
    plain = complete("local-thinker(think=false)", "hi", options=OPTIONS, config=config)
    assert plain.text.strip() and plain.thinking == ""
    prompt_tokens, text = reference(folders["qwen3"], [{"role": "user", "content": "hi"}], enable_thinking=False)
    assert plain.text == text and plain.usage.prompt_tokens == prompt_tokens


def test_a_lora_adapter_changes_the_answer_as_peft_does(folders, configs):
    config = configs(QWEN_LOCAL_MODEL_PATH=str(folders["qwen2"]))
    adapted = complete(f"qwen-local(lora={folders['lora']})", "hi", options=OPTIONS, config=config)
    _, text = reference(folders["qwen2"], [{"role": "user", "content": "hi"}], lora=str(folders["lora"]))
    assert adapted.text == text


def test_missing_weights_name_the_path_and_the_pull_command(configs, tmp_path):
    config = configs(CHATGLM_LOCAL_MODEL_PATH=str(tmp_path / "nowhere"))
    with pytest.raises(WeightsMissing) as caught:
        complete("chatglm4", "hi", config=config)
    assert str(tmp_path / "nowhere") in caught.value.en and "request_llms pull chatglm4" in caught.value.en


def test_an_unset_path_names_the_setting(configs):
    with pytest.raises(ConfigError, match="QWEN_LOCAL_MODEL_PATH"):
        complete("qwen-local", "hi", config=configs())


def test_remote_code_missing_from_the_folder_is_refused_before_loading(folders, configs, tmp_path):
    broken = shutil.copytree(folders["tinychat"], tmp_path / "tinychat")
    (broken / "modeling_tinychat.py").unlink()
    with pytest.raises(WeightsMissing, match="modeling_tinychat.py"):
        complete("chatglm3", "hi", config=configs(CHATGLM_LOCAL_MODEL_PATH=str(broken)))


def test_an_idle_model_is_unloaded_and_comes_back_on_the_next_request(folders, configs):
    config = configs(QWEN_LOCAL_MODEL_PATH=str(folders["qwen2"]), LOCAL_MODEL_IDLE_TIMEOUT="2")
    complete("qwen-local", "hi", options=OPTIONS, config=config)
    backend = runtime_of(config).backend_for(parse_model("qwen-local"))
    (worker,) = backend.workers.values()
    assert worker.exited.wait(20)
    assert not worker.process.is_alive() and not backend.workers
    assert complete("qwen-local", "hi", options=OPTIONS, config=config).usage.completion_tokens >= 1
