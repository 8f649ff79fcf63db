"""The registry behind tests/portal/test_url_walk.py.

The walk visits every URL pattern of the project. To turn a pattern into a
real address it needs, for every model registered in the admin, an object
that belongs to Östhammar (a *target*), and for every other URL parameter a
*filler*. Each app declares its own in `tests/<app>/url_walk_targets.py`:

    from tests.portal.url_walk import Target, filler, target

    @target(Pledge)
    def _pledge(ctx):
        pledge = PledgeFactory(municipality=ctx.municipality, status="draft")
        return Target(pledge, identity=[pledge.title], secrets=[...])

    @filler("year", url_name="pledges:pledge")
    def _year(ctx):
        return [ctx.get(Pledge).obj.valid_from.year]

A URL parameter or an admin-registered model without one makes the walk
fail, so no address can escape it.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern


@dataclass
class Target:
    """An object outside the outsider's scope.

    identity: text naming the object; an outsider's 200 answer for a URL
        built from this object must not contain it.
    secrets: non-public text; it must not appear on ANY page the anonymous
        visitor gets, nor on any page the outsider gets unless
        `shared_with_officials` (e.g. accessibility feedback, which every
        official handles).
    public: the object itself is public (a municipality): anonymous pages
        may show its identity.
    """

    obj: object
    identity: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    public: bool = False
    shared_with_officials: bool = False


TargetFactory = Callable[["WalkContext"], Target]
FillerFunc = Callable[["WalkContext"], list[str]]

TARGETS: dict[type, TargetFactory] = {}
# (url name or None, parameter name) -> filler
FILLERS: dict[tuple[str | None, str], FillerFunc] = {}


def target(model):
    def register(func: TargetFactory) -> TargetFactory:
        TARGETS[model] = func
        return func

    return register


def filler(param: str, *, url_name: str | None = None):
    """Values for URL parameter `param` (in the URL named `url_name`, or in
    every URL when None)."""

    def register(func: FillerFunc) -> FillerFunc:
        FILLERS[(url_name, param)] = func
        return func

    return register


def secret(label: str) -> str:
    """A unique marker to plant in non-public fields."""
    return f"HEMLIG-{label}-{uuid.uuid4().hex[:8]}"


class WalkContext:
    """What factories and fillers get: Östhammar (the target municipality)
    and its organisations; `get(Model)` builds (once) the target of another
    model."""

    def __init__(self, *, municipality, organisations: dict, outsiders: list):
        self.municipality = municipality
        self.organisations = organisations
        self.outsiders = outsiders
        self._targets: dict[type, Target] = {}

    def get(self, model) -> Target:
        if model not in self._targets:
            if model not in TARGETS:
                raise LookupError(f"No url-walk target factory for {model._meta.label}")
            self._targets[model] = TARGETS[model](self)
        return self._targets[model]

    @property
    def targets(self) -> dict[type, Target]:
        return self._targets


def load_app_registries() -> None:
    """Import tests/<app>/url_walk_targets.py for every project app that has one."""
    root = Path(__file__).resolve().parents[2]
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if not path.is_relative_to(root) or "site-packages" in path.parts:
            continue  # third-party apps: portal registers their admin models
        module = f"tests.{config.label}.url_walk_targets"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name not in (module, f"tests.{config.label}"):
                raise


# -- Enumerating the URL patterns ------------------------------------------------


@dataclass
class Pattern:
    """One URL pattern, with the pieces of its route from the root."""

    pieces: list  # RoutePattern / RegexPattern objects, outermost first
    name: str | None  # "namespace:name" when named
    callback: Callable
    model: type | None  # the admin model whose URLs these are, if any

    @property
    def description(self) -> str:
        return "".join(str(p) for p in self.pieces) + (f" ({self.name})" if self.name else "")


def all_patterns() -> list[Pattern]:
    admin_models = {f"{m._meta.app_label}/{m._meta.model_name}/": m for m in admin.site._registry}
    result: list[Pattern] = []

    def walk(entries, pieces, namespaces, model):
        for entry in entries:
            if isinstance(entry, URLResolver):
                ns = [*namespaces, entry.namespace] if entry.namespace else namespaces
                sub_model = model
                if namespaces == [] and entry.namespace == "admin":
                    sub_model = None
                elif "admin" in namespaces and str(entry.pattern) in admin_models:
                    sub_model = admin_models[str(entry.pattern)]
                walk(entry.url_patterns, [*pieces, entry.pattern], ns, sub_model)
            elif isinstance(entry, URLPattern):
                name = ":".join([*namespaces, entry.name]) if entry.name else None
                result.append(Pattern([*pieces, entry.pattern], name, entry.callback, model))

    walk(get_resolver().url_patterns, [], [], None)
    return result


ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
REGEX_GROUP = re.compile(r"\((?:\?P<(?P<name>\w+)>)?[^()]*\)")


def parameters(pattern: Pattern) -> list[str]:
    """The parameter names of a pattern, positional groups named _0, _1..."""
    names: list[str] = []
    position = 0
    for piece in pattern.pieces:
        if isinstance(piece, RoutePattern):
            names += [m["name"] for m in ROUTE_PARAM.finditer(str(piece))]
        elif isinstance(piece, RegexPattern):
            for m in REGEX_GROUP.finditer(str(piece)):
                if m["name"]:
                    names.append(m["name"])
                else:
                    names.append(f"_{position}")
                    position += 1
    return names


def build_path(pattern: Pattern, values: dict[str, str]) -> str:
    out = "/"
    position = 0
    for piece in pattern.pieces:
        text = str(piece)
        if isinstance(piece, RoutePattern):
            text = ROUTE_PARAM.sub(lambda m: str(values[m["name"]]), text)
        else:
            text = text.lstrip("^").rstrip("$").replace("\\/", "/")

            def group(m):
                nonlocal position
                if m["name"]:
                    return str(values[m["name"]])
                value = str(values[f"_{position}"])
                position += 1
                return value

            text = REGEX_GROUP.sub(group, text)
        out += text
    return out


# -- Filling the parameters -----------------------------------------------------


def _model_values(ctx: WalkContext, model, param: str) -> list[str] | None:
    """Parameters of an admin model's own URLs: the object and its history."""
    obj = ctx.get(model).obj
    if param in ("object_id", "pk", "id", "_0"):
        return [str(obj.pk)]
    if param in ("history_id", "_1"):
        history = getattr(obj, "history", None)
        if history is None:
            return None
        return [str(history.latest().history_id)]
    return None


def concrete_urls(ctx: WalkContext) -> tuple[list[tuple[str, Pattern, type | None]], list[str]]:
    """Every pattern as real addresses: [(path, pattern, target model)], and
    the list of patterns that could not be filled (must be empty)."""
    urls: list[tuple[str, Pattern, type | None]] = []
    unfilled: list[str] = []
    for pattern in all_patterns():
        params = parameters(pattern)
        combos: list[dict[str, str]] = [{}]
        for param in params:
            values = None
            if pattern.model is not None:
                try:
                    values = _model_values(ctx, pattern.model, param)
                except LookupError as exc:
                    unfilled.append(f"{pattern.description}: {exc}")
                    combos = []
                    break
            if values is None:
                func = FILLERS.get((pattern.name, param)) or FILLERS.get((None, param))
                values = func(ctx) if func else None
            if not values:
                unfilled.append(f"{pattern.description}: parameter {param!r}")
                combos = []
                break
            combos = [{**combo, param: value} for combo in combos for value in values]
        for combo in combos:
            urls.append((build_path(pattern, combo), pattern, pattern.model))
    return urls, unfilled


def unregistered_admin_models() -> list[str]:
    return sorted(m._meta.label for m in admin.site._registry if m not in TARGETS)
