global using Xunit;
global using Xunit.Abstractions;
global using MissionControl.Testing;
global using MissionControl.GatewayBridge.OpenClaw;
