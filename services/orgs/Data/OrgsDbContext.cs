using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;

namespace MissionControl.Orgs.Data;

public abstract class OrgsDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<Organization> Organizations => Set<Organization>();
    public DbSet<OrganizationMember> Members => Set<OrganizationMember>();
    public DbSet<BoardAccess> BoardAccess => Set<BoardAccess>();
    public DbSet<Board> Boards => Set<Board>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configuration) => configuration.UseUtcDateTimes();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<User>(e =>
        {
            e.HasIndex(u => u.ExternalId).IsUnique();
            e.Property(u => u.ExternalId).HasMaxLength(300);
        });
        model.Entity<Organization>(e =>
        {
            e.Property(o => o.Name).HasMaxLength(200);
            e.Property(o => o.NormalizedName).HasMaxLength(200);
            e.HasIndex(o => o.NormalizedName).IsUnique();
        });
        model.Entity<OrganizationMember>(e =>
        {
            e.HasIndex(m => new { m.OrganizationId, m.UserId }).IsUnique();
            e.HasIndex(m => m.UserId);
            e.HasMany(m => m.BoardAccess).WithOne().HasForeignKey(a => a.OrganizationMemberId);
        });
        model.Entity<BoardAccess>(e => e.HasIndex(a => new { a.OrganizationMemberId, a.BoardId }).IsUnique());
        model.Entity<Board>(e =>
        {
            e.Property(b => b.Name).HasMaxLength(200);
            e.Property(b => b.Slug).HasMaxLength(200);
            e.HasIndex(b => new { b.OrganizationId, b.Slug });
        });
        model.AddOutboxAndInbox();
    }
}

public sealed class SqliteOrgsDbContext(DbContextOptions<SqliteOrgsDbContext> options) : OrgsDbContext(options);

public sealed class PostgresOrgsDbContext(DbContextOptions<PostgresOrgsDbContext> options) : OrgsDbContext(options);

internal sealed class SqliteOrgsDesignFactory : Microsoft.Extensions.Hosting.SqliteDesignTimeFactory<SqliteOrgsDbContext>;

internal sealed class PostgresOrgsDesignFactory : Microsoft.Extensions.Hosting.PostgresDesignTimeFactory<PostgresOrgsDbContext>;
