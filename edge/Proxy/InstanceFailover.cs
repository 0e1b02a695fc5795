using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace MissionControl.Edge.Proxy;

/// <summary>
/// Running more than one instance: of a service (services__&lt;name&gt;__http__0..n, balanced by YARP)
/// and of the edge (every instance on the same public port).
/// </summary>
public static class InstanceFailover
{
    /// <summary>
    /// For a cluster of several instances: /alive probed every 2 s, a destination whose connections fail
    /// set aside for 5 s, and when none looks healthy all of them are tried (a broker outage must not
    /// turn into 503s: the services' outboxes keep accepting writes).
    /// </summary>
    public static HealthCheckConfig? HealthChecksFor(int destinations) => destinations < 2 ? null : new HealthCheckConfig
    {
        AvailableDestinationsPolicy = "HealthyOrPanic",
        Active = new ActiveHealthCheckConfig
        {
            Enabled = true, Interval = TimeSpan.FromSeconds(2), Timeout = TimeSpan.FromSeconds(1), Policy = "ConsecutiveFailures", Path = "/alive",
        },
        Passive = new PassiveHealthCheckConfig { Enabled = true, Policy = "TransportFailureRate", ReactivationPeriod = TimeSpan.FromSeconds(5) },
    };

    /// <summary>
    /// A request whose connection to an instance was refused never reached it, so it is sent once more
    /// to another instance (whatever its method): a stopped instance costs only the requests it held.
    /// </summary>
    public static async Task RetryRefusedConnectionAsync(HttpContext http, Func<Task> next)
    {
        await next();
        if (http.GetForwarderErrorFeature() is not { } failure) return;
        var proxy = http.GetReverseProxyFeature();
        var failed = proxy.ProxiedDestination;
        var others = proxy.AllDestinations.Where(d => d != failed).ToList();
        var retry = failure.Error == ForwarderError.Request && IsRefused(failure.Exception) && !http.Response.HasStarted && failed is not null && others.Count > 0;
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(InstanceFailover)).LogWarning(
            "Forwarding {Method} {Path} to {Destination} failed ({Error}: {Message}){Retry}", http.Request.Method, http.Request.Path,
            failed?.Model.Config.Address, failure.Error, failure.Exception?.Message, retry ? "; sent to another instance" : "");
        if (!retry) return;
        proxy.AvailableDestinations = others;
        http.Features.Set<IForwarderErrorFeature>(null);
        http.Response.StatusCode = StatusCodes.Status200OK;
        await next();
    }

    private static bool IsRefused(Exception? error) =>
        error is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError }
        || error?.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused };

    private const int SolSocket = 1, SoReusePort = 15; // Linux

    /// <summary>
    /// Edge:ReusePort: listen sockets with SO_REUSEPORT, so several edge processes (of the same user)
    /// share one port and the kernel spreads new connections among them; one that exits stops getting any.
    /// </summary>
    public static void UseSharedListenPort(this WebApplicationBuilder builder)
    {
        if (!builder.Configuration.GetValue<bool>("Edge:ReusePort")) return;
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("Edge:ReusePort (several edges on one port) needs Linux's SO_REUSEPORT.");
        builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = endpoint =>
        {
            if (endpoint is not IPEndPoint ip) return SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
            var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (ip.Address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
                socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
                socket.Bind(ip);
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        });
    }
}
