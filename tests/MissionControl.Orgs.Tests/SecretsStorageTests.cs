using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

/// <summary>API keys and invite tokens exist in clear only in the answer that created them: not in any table, not in any log line.</summary>
public abstract class SecretsStorageTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    [Fact]
    public async Task Neither_keys_nor_invite_tokens_are_stored_or_logged_in_clear()
    {
        var owner = await NewOwnerAsync();
        var guest = await NewUserAsync();
        var key = (await JsonAsync(await owner.Client.PostAsJsonAsync("/api/v1/users/me/api-keys", new { name = "ci" }), HttpStatusCode.Created))
            .GetProperty("key").GetString()!;
        var token = (await JsonAsync(await owner.Client.PostAsJsonAsync("/api/v1/organizations/me/invites", new { invited_email = guest.Email }), HttpStatusCode.Created))
            .GetProperty("token").GetString()!;
        await JsonAsync(await Host.Edge().PostAsJsonAsync("/internal/v1/principals/resolve-api-key", new { key }));
        await JsonAsync(await guest.Client.PostAsJsonAsync("/api/v1/organizations/invites/accept", new { token }));

        var dump = await DumpAllTablesAsync();

        // The hashes are there (so the check reads the right rows), the secrets are not.
        Assert.Contains(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key))), dump);
        Assert.Contains(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token))), dump);
        foreach (var secret in new[] { key, key[3..], token })
        {
            Assert.DoesNotContain(secret, dump, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Host.Logs.Lines, line => line.Contains(secret, StringComparison.Ordinal));
        }
        Assert.NotEmpty(Host.Logs.Lines);
    }

    /// <summary>Every row of every table as text (binary columns as hex and as UTF-8), by raw SQL.</summary>
    private Task<string> DumpAllTablesAsync() => Host.WithDbAsync(async db =>
    {
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var tables = await ReadColumnAsync(connection, db.Database.IsNpgsql()
            ? "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            : "SELECT name FROM sqlite_master WHERE type = 'table'");
        Assert.Contains("api_keys", tables);
        Assert.Contains("invites", tables);
        var dump = new StringBuilder();
        foreach (var table in tables)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM \"{table}\"";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                for (var i = 0; i < reader.FieldCount; i++)
                    dump.Append(reader.GetValue(i) switch
                    {
                        byte[] bytes => Convert.ToHexString(bytes) + " " + Encoding.UTF8.GetString(bytes),
                        var value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                    }).Append('|');
        }
        return dump.ToString();
    });

    private static async Task<List<string>> ReadColumnAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync()) values.Add(reader.GetString(0));
        return values;
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class SecretsStorageOnSqliteTests(BrokerFixture broker, OrgsHost host) : SecretsStorageTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class SecretsStorageOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : SecretsStorageTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
