using System.Globalization;
using MissionControl.Edge.Auth;

namespace MissionControl.Edge.Protection;

/// <summary>
/// RateLimiting:PerMinute requests per client IP and minute, on every route but the probes. Every answer
/// says where the client stands (X-RateLimit-Limit, -Remaining, -Reset in unix seconds); a refusal is
/// 429 rate_limited with Retry-After.
/// </summary>
public sealed class RateLimitMiddleware(RequestDelegate next, RateLimiter limiter, ClientAddress clients, EdgeProtectionOptions options)
{
    public const string Bucket = "req";

    public async Task InvokeAsync(HttpContext context)
    {
        if (options.PerMinute == 0 || ProbePaths.Is(context.Request.Path))
        {
            await next(context);
            return;
        }
        var decision = await limiter.HitAsync(Bucket, clients.Of(context), options.PerMinute);
        RateLimitHeaders.Set(context, decision);
        if (decision.Allowed)
        {
            await next(context);
            return;
        }
        await RateLimitHeaders.RefuseAsync(context, decision, limiter.Time.GetUtcNow(),
            $"More than {options.PerMinute} requests in a minute from this address.", "requests");
    }
}

/// <summary>
/// Refuses credentials from a client IP that had RateLimiting:AuthFailuresPerMinute 401 answers this minute
/// with 429, before any lookup (guessing keys costs the guesser, not orgs). Credentials the edge already
/// knows to be good (the admin token, a cached principal) still pass, so a user sharing the address
/// with a guesser keeps working. 401s are counted after the fact, from the authentication's answer.
/// </summary>
public sealed class AuthFailureLimitMiddleware(RequestDelegate next, RateLimiter limiter, ClientAddress clients, EdgeProtectionOptions options)
{
    public const string Bucket = "auth";

    public async Task InvokeAsync(HttpContext context, AdminToken admin, PrincipalResolver resolver)
    {
        var limit = options.AuthFailuresPerMinute;
        if (limit == 0 || ProbePaths.Is(context.Request.Path) || PublicRoutes.IsPublic(context.Request))
        {
            await next(context);
            return;
        }
        var client = clients.Of(context);
        var standing = await limiter.PeekAsync(Bucket, client, limit);
        if (!standing.Allowed)
        {
            var credential = Credential.From(context.Request, admin);
            if (credential is null || !(credential.Kind == CredentialKind.AdminToken || resolver.IsKnownValid(credential)))
            {
                RateLimitHeaders.Set(context, standing);
                await RateLimitHeaders.RefuseAsync(context, standing, limiter.Time.GetUtcNow(),
                    $"More than {limit} failed authentications in a minute from this address.", "auth_failures");
                return;
            }
        }

        await next(context);
        if (context.Response.StatusCode == StatusCodes.Status401Unauthorized) await limiter.HitAsync(Bucket, client, limit);
    }
}

/// <summary>The X-RateLimit-* headers of the limit that last decided on the request, written as the response starts.</summary>
public static class RateLimitHeaders
{
    private static readonly object Key = new();

    public static void Set(HttpContext context, RateLimitDecision decision)
    {
        var first = !context.Items.ContainsKey(Key);
        context.Items[Key] = decision;
        if (first)
            context.Response.OnStarting(static state =>
            {
                var http = (HttpContext)state;
                if (http.Items[Key] is RateLimitDecision d) Write(http.Response.Headers, d);
                return Task.CompletedTask;
            }, context);
    }

    private static void Write(IHeaderDictionary headers, RateLimitDecision decision)
    {
        headers["X-RateLimit-Limit"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = decision.ResetUnixSeconds.ToString(CultureInfo.InvariantCulture);
    }

    public static Task RefuseAsync(HttpContext context, RateLimitDecision decision, DateTimeOffset now, string detail, string limit)
    {
        var retryAfter = decision.RetryAfterSeconds(now);
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        return ProtectionProblems.WriteAsync(context, StatusCodes.Status429TooManyRequests, $"{detail} Retry in {retryAfter} s.", "rate_limited",
            new Dictionary<string, object?> { ["limit"] = limit, ["retry_after_seconds"] = retryAfter });
    }
}
