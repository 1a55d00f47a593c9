#!/usr/bin/env python3
"""The Helm CLI subset this repository's tests need, over the real Helm v4 library (PyPI helm-python-sdk).

There is no `helm` binary on the test machines; helm-python-sdk bundles Helm's Go SDK as a shared library.
Run it with the venv's python: `${DYNASTREAM_CACHE:-~/.cache/dynastream}/helm/bin/python helm.py ...`.

    lint      CHART [VALUES] [--kube-version v1.20.0]   findings, one a line; exit 1 on any error or warning
    template  CHART [VALUES] [--name N] [--namespace NS] [--include-crds]   the manifests, as `helm template`
    install   CHART [VALUES] --kubeconfig PATH --namespace NS [--name N] [--wait] [--timeout S] [--create-namespace]
    upgrade   CHART [VALUES] --kubeconfig PATH --namespace NS [--name N] [--wait] [--timeout S]
    uninstall --kubeconfig PATH --namespace NS [--name N] [--wait] [--timeout S] [--ignore-not-found]

VALUES are any of `-f/--values FILE`, `--set EXPR`, `--set-json EXPR`, merged in the order given, later wins
(the helm CLI merges every -f first, then --set-json, then --set). The release name defaults to `dynastream`. install, upgrade and uninstall print a JSON
summary ({name, namespace, revision, status}). Errors go to stderr with exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import helm_python as helm


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merges `override` into `base`: maps merge key by key, anything else is replaced."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


class Values(argparse.Action):
    """Collects -f/--set/--set-json into one list, in the order given, so that later sources win."""

    def __call__(self, parser, namespace, value, option_string=None):  # type: ignore[no-untyped-def]
        namespace.values.append((option_string, value))


def user_values(sources: list[tuple[str, str]]) -> dict[str, Any] | None:
    merged: dict[str, Any] = {}
    for option, text in sources:
        if option in ("-f", "--values"):
            parsed = helm.values_from_yaml(Path(text).read_text())
        elif option == "--set":
            parsed = helm.parse_set_string(text)
        else:
            parsed = helm.parse_set_json(text)
        merge(merged, parsed)
    return merged or None


def lint(args: argparse.Namespace) -> int:
    # NB: strict=True would turn warnings into errors inside Helm; we report both kinds and fail on both instead,
    # so the message says which it was.
    report = helm.lint(args.chart, user_values(args.values), kube_version=args.kube_version)
    severities = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}
    for message in report.get("messages") or []:
        severity = severities.get(message["severity"], str(message["severity"]))
        print(f"[{severity}] {message['path']}: {message['error']}")
    for error in report.get("errors") or []:
        print(f"[ERROR] {error}")
    failed = report.get("errors") or any(m["severity"] >= 2 for m in report.get("messages") or [])
    print(f"{report.get('total_charts_linted', 0)} chart(s) linted, {'failed' if failed else 'no failures'}")
    return 1 if failed else 0


def template(args: argparse.Namespace) -> int:
    with helm.Chart.load(args.chart) as chart:
        documents = []
        if args.include_crds:
            documents += [(crd["filename"], crd["data"]) for crd in chart.crds]
        rendered = chart.render(
            user_values(args.values), name=args.name, namespace=args.namespace, is_install=True
        )
        # NB: `helm template` leaves out NOTES.txt and templates that render to nothing; sorted by path so the
        # output is stable (Helm's own install order is by kind, which no test depends on).
        documents += [
            (path, text)
            for path, text in sorted(rendered.items())
            if not path.endswith("NOTES.txt") and text.strip()
        ]
    for path, text in documents:
        print(f"---\n# Source: {path}\n{text.strip()}")
    return 0


def summary(answer: dict[str, Any]) -> dict[str, Any]:
    """The release's name, namespace, revision and status (not its manifest or notes)."""
    # NB: install and upgrade answer the release; uninstall answers {"info": text, "release": release}, or only
    # {"info": ""} when --ignore-not-found found none.
    if isinstance(answer.get("info"), str):
        answer = answer.get("release") or {"status": "not found"}
    return {key: answer.get(key) for key in ("name", "namespace", "revision", "status")}


def release_action(args: argparse.Namespace) -> int:
    wait = "watcher" if args.wait else None
    with helm.Config(kubeconfig_path=args.kubeconfig, namespace=args.namespace) as config:
        if args.command == "install":
            release = config.install(
                args.chart,
                args.name,
                user_values(args.values),
                namespace=args.namespace,
                wait=wait,
                timeout=args.timeout,
                create_namespace=args.create_namespace,
            )
        elif args.command == "upgrade":
            release = config.upgrade(
                args.chart,
                args.name,
                user_values(args.values),
                namespace=args.namespace,
                wait=wait,
                timeout=args.timeout,
            )
        else:
            release = config.uninstall(
                args.name, wait=wait, timeout=args.timeout, ignore_not_found=args.ignore_not_found
            )
    print(json.dumps(summary(release)))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = root.add_subparsers(dest="command", required=True)

    def command(name: str, chart: bool = True, cluster: bool = False) -> argparse.ArgumentParser:
        sub = commands.add_parser(name)
        if chart:
            sub.add_argument("chart", help="the chart's directory or .tgz")
            sub.set_defaults(values=[])
            for option in (("-f", "--values"), ("--set",), ("--set-json",)):
                sub.add_argument(*option, action=Values, metavar="VALUE", help="values, merged in order")
        if cluster:
            sub.add_argument("--kubeconfig", required=True)
            sub.add_argument("--namespace", required=True)
            sub.add_argument("--wait", action="store_true", help="wait until the resources are ready")
            sub.add_argument("--timeout", type=int, default=300, help="seconds")
        if name != "lint":
            sub.add_argument("--name", default="dynastream", help="the release name")
        return sub

    command("lint").add_argument("--kube-version", help="lint as for this cluster version, e.g. v1.20.0")
    template = command("template")
    template.add_argument("--namespace", default="default")
    template.add_argument("--include-crds", action="store_true")
    command("install", cluster=True).add_argument("--create-namespace", action="store_true")
    command("upgrade", cluster=True)
    uninstall = command("uninstall", chart=False, cluster=True)
    uninstall.add_argument("--ignore-not-found", action="store_true", help="succeed when there is no such release")
    return root


def main() -> int:
    args = parser().parse_args()
    try:
        if args.command == "lint":
            return lint(args)
        if args.command == "template":
            return template(args)
        return release_action(args)
    except helm.HelmError as error:
        print(f"helm.py {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
