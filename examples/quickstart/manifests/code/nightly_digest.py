"""Nightly digest: summarise yesterday's failed runs and post them to Slack."""


def run(inputs, tools):
    failed = tools.runs.list(status="failed", since="-1d")
    lines = [f"- {run['automation']}: {run['error']}" for run in failed]
    text = "No failed runs yesterday." if not lines else "\n".join(lines)
    tools.connections["slack-alerts"].post(channel=inputs.get("channel", "#ops"), text=text)
    return {"failed": len(failed)}
