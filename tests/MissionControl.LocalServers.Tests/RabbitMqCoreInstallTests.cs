namespace MissionControl.LocalServers.Tests;

public sealed class RabbitMqCoreInstallTests : IDisposable
{
    private readonly string _root = Probes.NewWorkDir("rabbitmq-core");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Rabbit_and_what_it_needs_are_kept_and_the_other_plugins_left_out()
    {
        var plugins = Directory.CreateDirectory(Path.Combine(_root, "home", "plugins")).FullName;
        App(plugins, "rabbit-3.10.8", "rabbit", "kernel,stdlib,sasl,ra,rabbit_common");
        App(plugins, "rabbit_common-3.10.8", "rabbit_common", "kernel, jsx ,\n  recon");
        App(plugins, "ra-2.2.0", "ra", "kernel,aten");
        App(plugins, "aten-0.5.8", "aten", "");
        App(plugins, "jsx-3.1.0", "jsx", "kernel");
        App(plugins, "recon-2.5.2", "recon", "kernel,rabbit"); // a cycle is followed once
        App(plugins, "rabbitmq_management-3.10.8", "rabbitmq_management", "rabbit,cowboy");
        App(plugins, "cowboy-2.8.0", "cowboy", "kernel");
        File.WriteAllText(Path.Combine(plugins, "README"), "not an application");
        Directory.CreateDirectory(Path.Combine(plugins, "no-ebin"));

        var kept = RabbitMqCoreInstall.RequiredApplications(plugins).Select(Path.GetFileName).Order().ToList();

        Assert.Equal(["aten-0.5.8", "jsx-3.1.0", "ra-2.2.0", "rabbit-3.10.8", "rabbit_common-3.10.8", "recon-2.5.2"], kept);
    }

    [Fact]
    public void The_view_links_the_scripts_and_the_kept_applications_and_replaces_an_old_view()
    {
        var home = Path.Combine(_root, "lib", "rabbitmq_server-1");
        var sbin = Directory.CreateDirectory(Path.Combine(home, "sbin")).FullName;
        File.WriteAllText(Path.Combine(sbin, "rabbitmq-server"), "#!/bin/sh\n");
        File.WriteAllText(Path.Combine(sbin, "rabbitmq-env"), "#!/bin/sh\n");
        Directory.CreateDirectory(Path.Combine(home, "escript"));
        var plugins = Path.Combine(home, "plugins");
        App(plugins, "rabbit-1", "rabbit", "kernel");
        App(plugins, "rabbitmq_mqtt-1", "rabbitmq_mqtt", "rabbit");
        var bin = Directory.CreateDirectory(Path.Combine(_root, "bin")).FullName;
        File.CreateSymbolicLink(Path.Combine(bin, "rabbitmq-server"), Path.Combine("..", "lib", "rabbitmq_server-1", "sbin", "rabbitmq-server"));
        var view = Path.Combine(_root, "node", "core");
        Directory.CreateDirectory(Path.Combine(view, "plugins", "stale-1"));

        var scripts = RabbitMqCoreInstall.Prepare(Path.Combine(bin, "rabbitmq-server"), view);

        Assert.Equal(Path.Combine(view, "sbin"), scripts);
        Assert.Equal(Path.Combine(sbin, "rabbitmq-env"), new FileInfo(Path.Combine(scripts!, "rabbitmq-env")).LinkTarget);
        Assert.Equal(Path.Combine(home, "escript"), new DirectoryInfo(Path.Combine(view, "escript")).LinkTarget);
        Assert.Equal(["rabbit-1"], Directory.GetDirectories(Path.Combine(view, "plugins")).Select(Path.GetFileName));
        Assert.Equal(Path.Combine(plugins, "rabbit-1"), new DirectoryInfo(Path.Combine(view, "plugins", "rabbit-1")).LinkTarget);
        Assert.True(File.Exists(Path.Combine(plugins, "rabbitmq_mqtt-1", "ebin", "rabbitmq_mqtt.app")), "the package was touched");
    }

    [Fact]
    public void An_installation_without_rabbit_in_its_plugins_gets_no_view()
    {
        var sbin = Directory.CreateDirectory(Path.Combine(_root, "odd", "sbin")).FullName;
        File.WriteAllText(Path.Combine(sbin, "rabbitmq-server"), "#!/bin/sh\n");
        App(Path.Combine(_root, "odd", "plugins"), "ra-1", "ra", "kernel");

        Assert.Null(RabbitMqCoreInstall.Prepare(Path.Combine(sbin, "rabbitmq-server"), Path.Combine(_root, "view")));
        Assert.False(Directory.Exists(Path.Combine(_root, "view")));
    }

    private static void App(string plugins, string dir, string name, string needs)
    {
        var ebin = Directory.CreateDirectory(Path.Combine(plugins, dir, "ebin")).FullName;
        File.WriteAllText(Path.Combine(ebin, name + ".app"),
            $"{{application, '{name}', [\n\t{{description, \"x\"}},\n\t{{applications, [{needs}]}},\n\t{{env, []}}\n]}}.\n");
    }
}
