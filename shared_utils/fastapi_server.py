"""GPT Academic's path check for files a plugin opens on a user's behalf."""

from __future__ import annotations

from crazy_functions.runtime.errors import FriendlyException
from crazy_functions.runtime.session import say
from toolbox.folders import _home, _user
from userfiles import inside


def validate_path_safety(path_or_url: str, user: str) -> bool:
    """True when `path_or_url` lies in `user`'s own folders; raises FriendlyException otherwise."""
    if inside(path_or_url, _home(_user(user))):
        return True
    raise FriendlyException(say(zh=f"不允许访问该路径：{path_or_url}", en=f"This path is not yours to read: {path_or_url}"))
