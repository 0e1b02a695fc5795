using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>The /api/v1 wire conventions: snake_case members, UTC timestamps ending in Z.</summary>
public static class JsonDefaults
{
    public static JsonSerializerOptions Api { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        ConfigureConventions(o);
        o.Converters.Add(new TaskSnapshotJsonConverter());
        return o;
    }

    /// <summary>The conventions alone, without the hand-written writers (which follow them).</summary>
    internal static JsonSerializerOptions ConfigureConventions(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DictionaryKeyPolicy = null;
        o.Converters.Add(new UtcDateTimeOffsetConverter());
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return o;
    }

    public static IServiceCollection ConfigureMissionControlJson(this IServiceCollection services) =>
        services.Configure<JsonOptions>(o => Configure(o.SerializerOptions));

    /// <summary>
    /// "2026-01-02T03:04:05.123456Z", written digit by digit into a stack buffer: a task list writes four
    /// timestamps per task, and formatting each through a format string was a large share of its cost.
    /// </summary>
    public sealed class UtcDateTimeOffsetConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDateTimeOffset().ToUniversalTime();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => WriteValue(writer, value);

        public static void WriteValue(Utf8JsonWriter writer, DateTimeOffset value)
        {
            var t = value.UtcDateTime;
            Span<byte> s = stackalloc byte[27];
            Digits(s[..4], t.Year);
            s[4] = (byte)'-';
            Digits(s.Slice(5, 2), t.Month);
            s[7] = (byte)'-';
            Digits(s.Slice(8, 2), t.Day);
            s[10] = (byte)'T';
            Digits(s.Slice(11, 2), t.Hour);
            s[13] = (byte)':';
            Digits(s.Slice(14, 2), t.Minute);
            s[16] = (byte)':';
            Digits(s.Slice(17, 2), t.Second);
            s[19] = (byte)'.';
            Digits(s.Slice(20, 6), (int)(t.Ticks % TimeSpan.TicksPerSecond / 10));
            s[26] = (byte)'Z';
            writer.WriteStringValue(s);
        }

        private static void Digits(Span<byte> into, int value)
        {
            for (var i = into.Length - 1; i >= 0; i--, value /= 10) into[i] = (byte)('0' + value % 10);
        }
    }
}
