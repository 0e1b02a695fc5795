using Microsoft.EntityFrameworkCore;

namespace MissionControl.Tasks.Data;

/// <summary>Deletes what tasks holds for boards that are gone, or for a whole organization (no FK cascades: explicit, children first).</summary>
public static class TenantCleanup
{
    public static async Task DeleteBoardsAsync(TasksDbContext db, IReadOnlyList<Guid> boardIds, CancellationToken ct)
    {
        if (boardIds.Count == 0) return;
        var taskIds = db.Tasks.Where(t => boardIds.Contains(t.BoardId)).Select(t => t.Id);
        var approvalIds = db.Approvals.Where(a => boardIds.Contains(a.BoardId)).Select(a => a.Id);
        await db.TaskComments.Where(c => boardIds.Contains(c.BoardId)).ExecuteDeleteAsync(ct);
        await db.TaskDependencies.Where(d => boardIds.Contains(d.BoardId)).ExecuteDeleteAsync(ct);
        await db.TaskTags.Where(t => taskIds.Contains(t.TaskId)).ExecuteDeleteAsync(ct);
        await db.TaskCustomFieldValues.Where(v => taskIds.Contains(v.TaskId)).ExecuteDeleteAsync(ct);
        await db.ApprovalTaskLinks.Where(l => approvalIds.Contains(l.ApprovalId) || taskIds.Contains(l.TaskId)).ExecuteDeleteAsync(ct);
        await db.Approvals.Where(a => boardIds.Contains(a.BoardId)).ExecuteDeleteAsync(ct);
        await db.BoardMemory.Where(m => boardIds.Contains(m.BoardId)).ExecuteDeleteAsync(ct);
        await db.OnboardingSessions.Where(s => boardIds.Contains(s.BoardId)).ExecuteDeleteAsync(ct);
        await db.WebhookPayloads.Where(p => boardIds.Contains(p.BoardId)).ExecuteDeleteAsync(ct);
        await db.Webhooks.Where(w => boardIds.Contains(w.BoardId)).ExecuteDeleteAsync(ct);
        await db.CustomFieldBindings.Where(b => boardIds.Contains(b.BoardId)).ExecuteDeleteAsync(ct);
        await db.Tasks.Where(t => boardIds.Contains(t.BoardId)).ExecuteDeleteAsync(ct);
        await db.TaskCounts.Where(c => boardIds.Contains(c.BoardId)).ExecuteDeleteAsync(ct);
        await db.Boards.Where(b => boardIds.Contains(b.Id)).ExecuteDeleteAsync(ct);
    }

    public static async Task DeleteOrganizationAsync(TasksDbContext db, Guid organizationId, CancellationToken ct)
    {
        var boardIds = await db.Boards.Where(b => b.OrganizationId == organizationId).Select(b => b.Id).ToListAsync(ct);
        await DeleteBoardsAsync(db, boardIds, ct);

        // Whatever is left without a board copy, and the organization-wide copies.
        var taskIds = db.Tasks.Where(t => t.OrganizationId == organizationId).Select(t => t.Id);
        var tagIds = db.Tags.Where(t => t.OrganizationId == organizationId).Select(t => t.Id);
        var definitionIds = db.CustomFieldDefinitions.Where(d => d.OrganizationId == organizationId).Select(d => d.Id);
        await db.TaskComments.Where(c => c.OrganizationId == organizationId).ExecuteDeleteAsync(ct);
        await db.TaskDependencies.Where(d => taskIds.Contains(d.TaskId)).ExecuteDeleteAsync(ct);
        await db.TaskTags.Where(t => taskIds.Contains(t.TaskId) || tagIds.Contains(t.TagId)).ExecuteDeleteAsync(ct);
        await db.TaskCustomFieldValues.Where(v => taskIds.Contains(v.TaskId) || definitionIds.Contains(v.DefinitionId)).ExecuteDeleteAsync(ct);
        await db.CustomFieldBindings.Where(b => definitionIds.Contains(b.DefinitionId)).ExecuteDeleteAsync(ct);
        await db.ApprovalTaskLinks.Where(l => taskIds.Contains(l.TaskId)).ExecuteDeleteAsync(ct);
        await db.Approvals.Where(a => a.OrganizationId == organizationId).ExecuteDeleteAsync(ct);
        await db.BoardMemory.Where(m => m.OrganizationId == organizationId).ExecuteDeleteAsync(ct);
        await db.BoardGroupMemory.Where(m => m.OrganizationId == organizationId).ExecuteDeleteAsync(ct);
        await db.OnboardingSessions.Where(s => s.OrganizationId == organizationId).ExecuteDeleteAsync(ct);
        await db.WebhookPayloads.Where(p => p.OrganizationId == organizationId).ExecuteDeleteAsync(ct);
        await db.Webhooks.Where(w => w.OrganizationId == organizationId).ExecuteDeleteAsync(ct);
        await db.Tasks.Where(t => t.OrganizationId == organizationId).ExecuteDeleteAsync(ct);
        await db.CustomFieldDefinitions.Where(d => d.OrganizationId == organizationId).ExecuteDeleteAsync(ct);
        await db.Tags.Where(t => t.OrganizationId == organizationId).ExecuteDeleteAsync(ct);
        await db.BoardGroups.Where(g => g.OrganizationId == organizationId).ExecuteDeleteAsync(ct);
        await db.Agents.Where(a => a.OrganizationId == organizationId).ExecuteDeleteAsync(ct);
    }
}
