using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace MissionControl.Messaging;

/// <summary>
/// A compiled EF query for each model it meets: EF refuses to run a compiled query against another model
/// than the one it was compiled for, and a process may hold several (one per provider: the tests run
/// SQLite and PostgreSQL services side by side; a service holds one).
/// </summary>
public sealed class CompiledPerModel<TQuery>(Func<TQuery> compile) where TQuery : class
{
    private readonly ConcurrentDictionary<IModel, TQuery> _byModel = new();

    public TQuery For(DbContext db) => _byModel.GetOrAdd(db.Model, _ => compile());
}
