using System.Net;
using System.Net.Http.Json;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

/// <summary>Every endpoint refuses a request without the edge's internal token.</summary>
public abstract class UnauthenticatedTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    private static readonly string Id = Guid.NewGuid().ToString();

    public static TheoryData<string, string> Endpoints() => new()
    {
        { "POST", "/internal/v1/principals/resolve" }, { "POST", "/internal/v1/principals/resolve-api-key" },
        { "POST", "/api/v1/auth/bootstrap" }, { "GET", "/api/v1/users" }, { "POST", "/api/v1/users" },
        { "GET", "/api/v1/users/me" }, { "PATCH", "/api/v1/users/me" }, { "DELETE", "/api/v1/users/me" },
        { "GET", "/api/v1/users/me/api-keys" }, { "POST", "/api/v1/users/me/api-keys" }, { "DELETE", $"/api/v1/users/me/api-keys/{Id}" },
        { "POST", $"/api/v1/users/{Id}/api-keys" },
        { "POST", "/api/v1/organizations" }, { "GET", "/api/v1/organizations/me" }, { "DELETE", "/api/v1/organizations/me" },
        { "GET", "/api/v1/organizations/me/list" }, { "PATCH", "/api/v1/organizations/me/active" },
        { "GET", "/api/v1/organizations/me/member" }, { "GET", "/api/v1/organizations/me/members" },
        { "GET", $"/api/v1/organizations/me/members/{Id}" }, { "PATCH", $"/api/v1/organizations/me/members/{Id}" },
        { "PUT", $"/api/v1/organizations/me/members/{Id}/access" }, { "DELETE", $"/api/v1/organizations/me/members/{Id}" },
        { "GET", "/api/v1/organizations/me/invites" }, { "POST", "/api/v1/organizations/me/invites" },
        { "DELETE", $"/api/v1/organizations/me/invites/{Id}" }, { "POST", "/api/v1/organizations/invites/accept" },
        { "GET", "/api/v1/organizations/me/custom-fields" }, { "POST", "/api/v1/organizations/me/custom-fields" },
        { "PATCH", $"/api/v1/organizations/me/custom-fields/{Id}" }, { "DELETE", $"/api/v1/organizations/me/custom-fields/{Id}" },
        { "GET", "/api/v1/tags" }, { "POST", "/api/v1/tags" }, { "GET", $"/api/v1/tags/{Id}" }, { "PATCH", $"/api/v1/tags/{Id}" },
        { "DELETE", $"/api/v1/tags/{Id}" },
        { "GET", "/api/v1/board-groups" }, { "POST", "/api/v1/board-groups" }, { "GET", $"/api/v1/board-groups/{Id}" },
        { "PATCH", $"/api/v1/board-groups/{Id}" }, { "DELETE", $"/api/v1/board-groups/{Id}" },
        { "GET", "/api/v1/boards" }, { "POST", "/api/v1/boards" }, { "GET", $"/api/v1/boards/{Id}" }, { "PATCH", $"/api/v1/boards/{Id}" },
        { "DELETE", $"/api/v1/boards/{Id}" },
        { "GET", "/api/v1/agent/boards" }, { "GET", $"/api/v1/agent/boards/{Id}" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Requests_without_the_internal_token_are_401(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PATCH" or "PUT") request.Content = JsonContent.Create(new { });

        var response = await Host.Anonymous().SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class UnauthenticatedOnSqliteTests(BrokerFixture broker, OrgsHost host) : UnauthenticatedTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class UnauthenticatedOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : UnauthenticatedTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
