namespace MissionControl.LocalServers;

/// <summary>
/// A server cannot be started because its software is not installed (or cannot run here).
/// The message says what to install and how to point at an existing server instead.
/// </summary>
public sealed class LocalServerUnavailableException(string message) : Exception(message)
{
    internal static LocalServerUnavailableException RabbitMq() => new(
        "rabbitmq-server is not installed: run `apt-get install -y rabbitmq-server` " +
        "(or set ConnectionStrings__messaging / MC_TEST_RABBITMQ to an existing broker, e.g. amqp://guest:guest@127.0.0.1:5672)");

    internal static LocalServerUnavailableException Postgres() => new(
        "PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb): run `apt-get install -y postgresql-15` " +
        "(or set MC_TEST_POSTGRES to an existing server, e.g. Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres)");

    internal static LocalServerUnavailableException Redis() => new(
        "redis-server is not installed: run `apt-get install -y redis-server` " +
        "(or set ConnectionStrings__redis to an existing server, e.g. 127.0.0.1:6379)");

    internal static LocalServerUnavailableException OpenClaw(string dir) => new(
        $"The OpenClaw gateway is not installed in {dir}: run scripts/install-openclaw.sh " +
        "(it installs Node 24 and openclaw from the npm registry once per machine; MC_OPENCLAW_DIR points at another install)");

    internal static LocalServerUnavailableException NotLinux() => new(
        "Local servers can only be started on Linux; point the connection strings at existing servers instead.");
}
