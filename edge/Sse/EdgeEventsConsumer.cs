using MassTransit;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Orgs;
using MissionControl.Edge.Auth;

namespace MissionControl.Edge.Sse;

/// <summary>
/// Every edge instance gets identity events on its own temporary queue and drops cached principals,
/// so a revoked key, a removed member, a changed role or a deleted agent takes effect at once.
/// (What SSE clients see comes from the event log, through <see cref="EventFeed"/>.)
/// </summary>
public sealed class EdgeEventsConsumer(PrincipalResolver principals) :
    IConsumer<OrganizationCreated>, IConsumer<OrganizationDeleted>, IConsumer<MemberChanged>, IConsumer<CredentialRevoked>,
    IConsumer<AgentUpdated>, IConsumer<AgentDeleted>
{
    public Task Consume(ConsumeContext<OrganizationCreated> c) => Invalidate(() => principals.InvalidateSubject(c.Message.CreatedByUserId.ToString()));

    public Task Consume(ConsumeContext<OrganizationDeleted> c) => Invalidate(() => principals.InvalidateOrganization(c.Message.OrganizationId));

    public Task Consume(ConsumeContext<MemberChanged> c) => Invalidate(() => principals.InvalidateSubject(c.Message.UserId.ToString()));

    public Task Consume(ConsumeContext<CredentialRevoked> c) => Invalidate(() => principals.InvalidateSubject(c.Message.UserId.ToString()));

    public Task Consume(ConsumeContext<AgentUpdated> c) => Invalidate(() => principals.InvalidateSubject(c.Message.Agent.Id.ToString()));

    public Task Consume(ConsumeContext<AgentDeleted> c) => Invalidate(() => principals.InvalidateSubject(c.Message.AgentId.ToString()));

    private static Task Invalidate(Action invalidate)
    {
        invalidate();
        return Task.CompletedTask;
    }
}
