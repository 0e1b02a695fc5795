global using Xunit;
global using MissionControl.Testing;
