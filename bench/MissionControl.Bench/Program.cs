// Mission Control bench: load, event latency and memory of a running system. See bench/run.sh.
return await MissionControl.Bench.BenchApp.RunAsync(args).ConfigureAwait(false);
