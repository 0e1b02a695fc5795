using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace MissionControl.Messaging;

/// <summary>
/// Base for consumers that change a service's database: the inbox row and the handler's changes are
/// saved together, so a redelivered message (same MessageId) changes nothing the second time.
/// </summary>
public abstract class IdempotentConsumer<TMessage, TContext>(TContext db, DatabaseWriteGate writes) : IConsumer<TMessage>
    where TMessage : class where TContext : DbContext
{
    protected TContext Db { get; } = db;

    public async Task Consume(ConsumeContext<TMessage> context)
    {
        var messageId = context.MessageId ?? throw new InvalidOperationException("Message has no MessageId");
        var consumer = GetType().Name;
        if (await Db.Set<InboxMessage>().AnyAsync(m => m.MessageId == messageId && m.Consumer == consumer, context.CancellationToken))
            return;

        await Handle(context.Message, context.CancellationToken);
        Db.Set<InboxMessage>().Add(new InboxMessage { MessageId = messageId, Consumer = consumer, ProcessedAt = DateTime.UtcNow });
        try
        {
            using (await writes.EnterAsync(context.CancellationToken))
                await Db.SaveChangesAsync(context.CancellationToken);
        }
        catch (DbUpdateException)
        {
            // A concurrent redelivery may have won the race: then its changes stand and ours roll back.
            if (!await AlreadyProcessedAsync(messageId, consumer)) throw;
        }
    }

    /// <summary>Apply the message to the tracked entities of <see cref="Db"/>; do not save.</summary>
    protected abstract Task Handle(TMessage message, CancellationToken ct);

    private async Task<bool> AlreadyProcessedAsync(Guid messageId, string consumer)
    {
        Db.ChangeTracker.Clear();
        return await Db.Set<InboxMessage>().AnyAsync(m => m.MessageId == messageId && m.Consumer == consumer);
    }
}
