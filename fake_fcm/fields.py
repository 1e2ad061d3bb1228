"""The field tree of FCM's v1 ``SendMessageRequest``, and both JSON spellings of its names.

Google's proto3 JSON parser takes every field under its proto name
(``fcm_options``) and under its lowerCamelCase JSON name (``fcmOptions``); the
official Node.js SDK sends a mix of both (it renames some fields to snake_case
and leaves ``fcmOptions``, ``analyticsLabel`` … as they are).  So the fake
rewrites every name it knows to snake_case before its rules run, refuses names
it does not know in either spelling, as the real parser does, and stores the
snake_case form: FCM keeps the parsed proto, not the spelling a client used.

Only proto message levels are rewritten.  Maps (``data``, ``headers``) and
free-form ``Struct`` fields (``apns.payload``, ``webpush.notification``) are
the sender's own keys (``content-available``, ``requireInteraction``) and are
kept verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fake_fcm.errors import InvalidArgument

#: A proto message: each field's snake_case name → the message it holds, or None for a leaf
#: (scalar, repeated scalar, map or Struct).
Fields = Mapping[str, "Fields | None"]

COLOR: Fields = dict.fromkeys(("red", "green", "blue", "alpha"))
LIGHT_SETTINGS: Fields = {"color": COLOR, "light_on_duration": None, "light_off_duration": None}
ANDROID_NOTIFICATION: Fields = {
    **dict.fromkeys(
        (
            "title", "body", "icon", "color", "sound", "tag", "click_action", "body_loc_key", "body_loc_args",
            "title_loc_key", "title_loc_args", "channel_id", "ticker", "sticky", "event_time", "local_only",
            "notification_priority", "default_sound", "default_vibrate_timings", "default_light_settings",
            "vibrate_timings", "visibility", "notification_count", "image", "bypass_proxy_notification", "proxy",
        )
    ),
    "light_settings": LIGHT_SETTINGS,
}  # fmt: skip
ANALYTICS_OPTIONS: Fields = {"analytics_label": None}
ANDROID: Fields = {
    **dict.fromkeys(
        (
            "collapse_key", "priority", "ttl", "restricted_package_name", "data", "direct_boot_ok",
            "bandwidth_constrained_ok", "restricted_satellite_ok",
        )
    ),
    "notification": ANDROID_NOTIFICATION,
    "fcm_options": ANALYTICS_OPTIONS,
}  # fmt: skip
WEBPUSH: Fields = {
    "headers": None,
    "data": None,
    "notification": None,  # a Struct: the Web Notification API's own names
    "fcm_options": {"link": None, "analytics_label": None},
}
APNS: Fields = {
    "headers": None,
    "payload": None,  # a Struct: APNs' own JSON (aps, content-available, …)
    "fcm_options": {"analytics_label": None, "image": None},
    "live_activity_token": None,
}
NOTIFICATION: Fields = dict.fromkeys(("title", "body", "image"))
TARGETS = ("token", "fid", "topic", "condition")
MESSAGE: Fields = {
    **dict.fromkeys(("name", "data", *TARGETS)),
    "notification": NOTIFICATION,
    "android": ANDROID,
    "webpush": WEBPUSH,
    "apns": APNS,
    "fcm_options": ANALYTICS_OPTIONS,
}
REQUEST: Fields = {"message": MESSAGE, "validate_only": None}


def json_name(proto_name: str) -> str:
    """The lowerCamelCase name proto3 JSON gives a field (``fcm_options`` → ``fcmOptions``)."""
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), proto_name)


def expect_object(value: object, field: str) -> dict[str, Any]:
    """``value`` as a JSON object, or FCM's INVALID_ARGUMENT naming where one was expected."""
    if not isinstance(value, dict):
        where = f" at '{field}'" if field else ""
        raise InvalidArgument(f"Invalid JSON payload received. Expected an object{where}.", field or None)
    return value


def to_proto_names(value: object, fields: Fields, where: str) -> dict[str, Any]:
    """A copy of the object ``value`` with every known name in snake_case, recursively.

    Unknown names are refused in either spelling; a field sent under both of its names
    is refused too (which one would win is undefined).
    """
    spellings = _spellings(fields)
    result: dict[str, Any] = {}
    for name, item in expect_object(value, where).items():
        proto = spellings.get(name)
        path = f"{where}.{name}" if where else name
        if proto is None:
            at = f" at '{where}'" if where else ""
            raise InvalidArgument(f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.', path)
        if proto in result:
            raise InvalidArgument(f'Invalid JSON payload received. Field "{proto}" is set twice ("{name}").', path)
        inner = fields[proto]
        result[proto] = item if inner is None else to_proto_names(item, inner, f"{where}.{proto}" if where else proto)
    return result


_SPELLINGS: dict[int, dict[str, str]] = {}


def _spellings(fields: Fields) -> dict[str, str]:
    """Both names of every field of one message → its proto name (built once per message)."""
    known = _SPELLINGS.get(id(fields))
    if known is None:
        known = {alias: name for name in fields for alias in (name, json_name(name))}
        _SPELLINGS[id(fields)] = known
    return known
