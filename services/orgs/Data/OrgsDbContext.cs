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
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<OrganizationInvite> Invites => Set<OrganizationInvite>();
    public DbSet<InviteBoardAccess> InviteBoardAccess => Set<InviteBoardAccess>();
    public DbSet<BoardGroup> BoardGroups => Set<BoardGroup>();
    public DbSet<Tag> Tags => Set<Tag>();
    public DbSet<TaskTagCopy> TaskTags => Set<TaskTagCopy>();
    public DbSet<CustomFieldDefinition> CustomFields => Set<CustomFieldDefinition>();
    public DbSet<BoardCustomField> BoardCustomFields => Set<BoardCustomField>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configuration) => configuration.UseUtcDateTimes();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<User>(e =>
        {
            // Unique where set: NULLs never collide on either provider.
            e.HasIndex(u => u.ExternalId).IsUnique();
            e.Property(u => u.ExternalId).HasMaxLength(300);
            e.Property(u => u.NormalizedEmail).HasMaxLength(320);
            e.HasIndex(u => u.NormalizedEmail);
            e.Ignore(u => u.IsInstanceAdmin);
            e.Ignore(u => u.DisplayName);
        });
        model.Entity<ApiKey>(e =>
        {
            e.Property(k => k.Name).HasMaxLength(200);
            e.Property(k => k.Prefix).HasMaxLength(20);
            e.HasIndex(k => k.KeyHash).IsUnique();
            e.HasIndex(k => k.UserId);
        });
        model.Entity<Organization>(e =>
        {
            e.Property(o => o.Name).HasMaxLength(200);
            e.Property(o => o.NormalizedName).HasMaxLength(200);
            e.HasIndex(o => o.NormalizedName).IsUnique().HasFilter("NOT is_personal");
        });
        model.Entity<OrganizationMember>(e =>
        {
            e.HasIndex(m => new { m.OrganizationId, m.UserId }).IsUnique();
            e.HasIndex(m => m.UserId);
            e.HasMany(m => m.BoardAccess).WithOne().HasForeignKey(a => a.OrganizationMemberId);
        });
        model.Entity<BoardAccess>(e =>
        {
            e.HasIndex(a => new { a.OrganizationMemberId, a.BoardId }).IsUnique();
            e.HasIndex(a => a.BoardId);
        });
        model.Entity<OrganizationInvite>(e =>
        {
            e.Property(i => i.InvitedEmail).HasMaxLength(320);
            e.HasIndex(i => i.TokenHash).IsUnique();
            e.HasIndex(i => new { i.OrganizationId, i.CreatedAt });
            e.HasIndex(i => i.InvitedEmail);
            e.HasMany(i => i.BoardAccess).WithOne().HasForeignKey(a => a.OrganizationInviteId);
        });
        model.Entity<InviteBoardAccess>(e =>
        {
            e.HasIndex(a => new { a.OrganizationInviteId, a.BoardId }).IsUnique();
            e.HasIndex(a => a.BoardId);
        });
        model.Entity<BoardGroup>(e =>
        {
            e.Property(g => g.Name).HasMaxLength(200);
            e.Property(g => g.Slug).HasMaxLength(200);
            e.HasIndex(g => g.OrganizationId);
        });
        model.Entity<Board>(e =>
        {
            e.Property(b => b.Name).HasMaxLength(200);
            e.Property(b => b.Slug).HasMaxLength(200);
            e.HasIndex(b => new { b.OrganizationId, b.Slug });
            e.HasIndex(b => b.BoardGroupId);
            // NULLs never collide on either provider: only default boards take part.
            e.HasIndex(b => b.DefaultOfOrganizationId).IsUnique();
        });
        model.Entity<Tag>(e =>
        {
            e.Property(t => t.Name).HasMaxLength(100);
            e.Property(t => t.Slug).HasMaxLength(100);
            e.Property(t => t.Color).HasMaxLength(6);
            e.HasIndex(t => new { t.OrganizationId, t.Slug }).IsUnique();
        });
        model.Entity<TaskTagCopy>(e =>
        {
            e.ToTable("task_tags");
            e.HasKey(t => new { t.TaskId, t.TagId });
            e.HasIndex(t => t.TagId);
            e.HasIndex(t => t.BoardId);
            e.HasIndex(t => t.OrganizationId);
        });
        model.Entity<CustomFieldDefinition>(e =>
        {
            e.ToTable("custom_field_definitions");
            e.Property(d => d.FieldKey).HasMaxLength(100);
            e.Property(d => d.Label).HasMaxLength(200);
            e.Property(d => d.FieldType).HasMaxLength(20);
            e.Property(d => d.UiVisibility).HasMaxLength(20);
            e.HasIndex(d => new { d.OrganizationId, d.FieldKey }).IsUnique();
            e.HasMany(d => d.Boards).WithOne().HasForeignKey(b => b.CustomFieldDefinitionId);
        });
        model.Entity<BoardCustomField>(e =>
        {
            e.HasKey(b => new { b.CustomFieldDefinitionId, b.BoardId });
            e.HasIndex(b => b.BoardId);
        });
        model.AddOutboxAndInbox();
    }
}

public sealed class SqliteOrgsDbContext(DbContextOptions<SqliteOrgsDbContext> options) : OrgsDbContext(options);

public sealed class PostgresOrgsDbContext(DbContextOptions<PostgresOrgsDbContext> options) : OrgsDbContext(options);

internal sealed class SqliteOrgsDesignFactory : Microsoft.Extensions.Hosting.SqliteDesignTimeFactory<SqliteOrgsDbContext>;

internal sealed class PostgresOrgsDesignFactory : Microsoft.Extensions.Hosting.PostgresDesignTimeFactory<PostgresOrgsDbContext>;
