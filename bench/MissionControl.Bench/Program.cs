// Mission Control bench: load, event latency and memory of a running system (bench/run.sh), or with
// "provision" first, agent provisioning on a real OpenClaw gateway (bench/provision.sh).
return args is ["provision", .. var rest]
    ? await MissionControl.Bench.ProvisionBench.RunAsync(rest).ConfigureAwait(false)
    : await MissionControl.Bench.BenchApp.RunAsync(args).ConfigureAwait(false);
