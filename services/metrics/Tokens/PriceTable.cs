using System.Globalization;

namespace MissionControl.Metrics.Tokens;

/// <summary>USD per million tokens, input and output priced separately.</summary>
public readonly record struct ModelPrice(decimal InputPerMillion, decimal OutputPerMillion);

/// <summary>What a number of tokens cost.</summary>
public readonly record struct Cost(decimal Input, decimal Output, bool Priced)
{
    public decimal Total => Input + Output;
}

/// <summary>
/// The price table from configuration: Tokens:Prices:&lt;model&gt;:Input and :Output, USD per million
/// tokens. A model is found by its exact name (any case), then without a provider prefix
/// ("anthropic/claude-sonnet-4-5"), then by the longest configured name it extends with a dash
/// (a dated snapshot such as "claude-sonnet-4-5-20250929"). Unknown models cost nothing and are
/// reported as unpriced: a guessed price would be a wrong number that looks right.
/// </summary>
public sealed class PriceTable
{
    public const string Section = "Tokens:Prices";
    private const decimal Million = 1_000_000m;
    private readonly Dictionary<string, ModelPrice> _prices = new(StringComparer.OrdinalIgnoreCase);

    public PriceTable(IReadOnlyDictionary<string, ModelPrice> prices)
    {
        foreach (var (model, price) in prices) _prices[model] = price;
    }

    public static PriceTable From(IConfiguration configuration)
    {
        var prices = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
        foreach (var model in configuration.GetSection(Section).GetChildren())
        {
            if (Parse(model["Input"]) is { } input && Parse(model["Output"]) is { } output)
                prices[model.Key] = new ModelPrice(input, output);
        }
        return new PriceTable(prices);
    }

    private static decimal? Parse(string? value) =>
        decimal.TryParse(value, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) && d >= 0 ? d : null;

    public ModelPrice? Find(string model)
    {
        if (_prices.TryGetValue(model, out var price)) return price;
        var slash = model.LastIndexOf('/');
        if (slash >= 0 && slash < model.Length - 1) return Find(model[(slash + 1)..]);
        ModelPrice? best = null;
        var bestLength = 0;
        foreach (var (name, p) in _prices)
            if (name.Length > bestLength && model.Length > name.Length && model[name.Length] == '-'
                && model.StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                best = p;
                bestLength = name.Length;
            }
        return best;
    }

    /// <summary>(input × input price + output × output price) / 1,000,000.</summary>
    public Cost Price(string model, long inputTokens, long outputTokens) => Find(model) is { } p
        ? new Cost(inputTokens * p.InputPerMillion / Million, outputTokens * p.OutputPerMillion / Million, true)
        : new Cost(0, 0, false);
}
