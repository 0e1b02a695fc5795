using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace MissionControl.Orgs.Membership;

/// <summary>
/// Changes that count the organization's owners (demote, remove, delete) run one at a time per
/// organization, so two concurrent demotions can never leave it without an owner. SQLite's
/// transactions already take the write lock at BEGIN; PostgreSQL locks the organization's row.
/// </summary>
public static class OrganizationLock
{
    public static async Task<IDbContextTransaction> BeginAsync(Data.OrgsDbContext db, Guid orgId, CancellationToken ct)
    {
        var tx = await db.Database.BeginTransactionAsync(ct);
        if (db.Database.IsNpgsql())
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM organizations WHERE id = {orgId} FOR UPDATE", ct);
        return tx;
    }
}
