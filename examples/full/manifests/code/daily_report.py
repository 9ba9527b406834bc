"""Daily report: count yesterday's runs by status and post the counts to Slack."""


def run(inputs, tools):
    runs = tools.runs.list(since="-1d")
    counts = {}
    for item in runs:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    text = ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "no runs"
    tools.connections["slack-reports"].post(channel=inputs.get("channel", "#reports"), text=text)
    return {"posted": True}
