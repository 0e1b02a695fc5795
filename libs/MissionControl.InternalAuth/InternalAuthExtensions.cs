using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MissionControl.InternalAuth;

public static class InternalAuthExtensions
{
    public const string Scheme = "Internal";
    public const string VerificationKeyConfig = "InternalAuth:VerificationKey";
    public const string SigningKeyConfig = "InternalAuth:SigningKey";

    /// <summary>
    /// Services accept only the edge's internal token: every endpoint requires it unless it opts out
    /// with AllowAnonymous (health probes do).
    /// </summary>
    public static IHostApplicationBuilder AddInternalTokenAuth(this IHostApplicationBuilder builder)
    {
        var key = builder.Configuration[VerificationKeyConfig];
        if (string.IsNullOrWhiteSpace(key))
            throw new InvalidOperationException(
                $"{VerificationKeyConfig} is not set (env InternalAuth__VerificationKey): the service cannot verify the edge's tokens. " +
                "Start the system with the AppHost, which generates the key pair.");

        builder.Services.AddSingleton(new InternalTokenValidator(key));
        builder.Services.AddAuthentication(Scheme)
            .AddScheme<AuthenticationSchemeOptions, InternalTokenHandler>(Scheme, null);
        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(Scheme).RequireAuthenticatedUser().Build());
        return builder;
    }

    /// <summary>The caller as the edge resolved it. Only valid behind the internal-token scheme.</summary>
    public static McPrincipal GetPrincipal(this HttpContext context) =>
        context.Features.Get<McPrincipal>() ?? throw new InvalidOperationException("No authenticated principal on this request.");

    /// <summary>
    /// Marks a public endpoint (inbound board webhooks): it accepts the edge's anonymous principal.
    /// Every other endpoint refuses a token whose principal is anonymous, whatever it checks itself.
    /// </summary>
    public static TBuilder AllowAnonymousPrincipal<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(AnonymousPrincipalAllowed.Instance);
        return builder;
    }

    public static string? GetBearerToken(this HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }
}

/// <summary>Endpoint metadata: see <see cref="InternalAuthExtensions.AllowAnonymousPrincipal{TBuilder}"/>.</summary>
public sealed class AnonymousPrincipalAllowed
{
    public static readonly AnonymousPrincipalAllowed Instance = new();
}

internal sealed class InternalTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    InternalTokenValidator validator) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = Request.GetBearerToken();
        if (token is null) return Task.FromResult(AuthenticateResult.NoResult());
        var principal = validator.Validate(token);
        if (principal is null) return Task.FromResult(AuthenticateResult.Fail("invalid or expired internal token"));
        if (principal.Kind == PrincipalKind.Anonymous && Context.GetEndpoint()?.Metadata.GetMetadata<AnonymousPrincipalAllowed>() is null)
            return Task.FromResult(AuthenticateResult.Fail("this endpoint needs a credential"));

        Context.Features.Set(principal);
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, principal.Subject), new Claim("kind", principal.Kind.ToString())],
            InternalAuthExtensions.Scheme);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), InternalAuthExtensions.Scheme)));
    }
}
