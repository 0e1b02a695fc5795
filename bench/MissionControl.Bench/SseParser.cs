namespace MissionControl.Bench;

/// <summary>Called for each dispatched server-sent event; the spans are only valid during the call.</summary>
internal delegate void SseEventHandler(ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> id, ReadOnlySpan<byte> data);

/// <summary>Called for each comment line (": text"), without the colon and one leading space; the span is only valid during the call.</summary>
internal delegate void SseCommentHandler(ReadOnlySpan<byte> text);

/// <summary>
/// Incremental text/event-stream parser over raw bytes (CR, LF and CRLF line ends; "data" lines joined
/// with LF; comment lines counted as heartbeats). Feed it chunks as they are read from the stream.
/// The line and data buffers start at the given sizes and grow (once, to the largest frame) as needed:
/// the fanout bench keeps thousands of parsers and starts them small.
/// </summary>
internal sealed class SseParser(SseEventHandler onEvent, SseCommentHandler? onComment = null, int lineCapacity = 1024, int dataCapacity = 8 * 1024)
{
    private byte[] _line = new byte[lineCapacity];
    private int _lineLength;
    private byte[] _data = new byte[dataCapacity];
    private int _dataLength;
    private bool _hasData;
    private readonly byte[] _eventName = new byte[64];
    private int _eventNameLength;
    private readonly byte[] _id = new byte[128];
    private int _idLength;
    private bool _afterCarriageReturn;

    public long Heartbeats { get; private set; }

    public long Dispatched { get; private set; }

    public void Feed(ReadOnlySpan<byte> chunk)
    {
        while (!chunk.IsEmpty)
        {
            if (_afterCarriageReturn)
            {
                _afterCarriageReturn = false;
                if (chunk[0] == (byte)'\n')
                {
                    chunk = chunk[1..];
                    continue;
                }
            }

            int end = chunk.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                Append(ref _line, ref _lineLength, chunk);
                return;
            }

            Append(ref _line, ref _lineLength, chunk[..end]);
            _afterCarriageReturn = chunk[end] == (byte)'\r';
            chunk = chunk[(end + 1)..];
            int length = _lineLength;
            _lineLength = 0;
            ProcessLine(_line.AsSpan(0, length));
        }
    }

    private void ProcessLine(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty)
        {
            Dispatch();
            return;
        }

        if (line[0] == (byte)':')
        {
            Heartbeats++;
            if (onComment is not null)
            {
                ReadOnlySpan<byte> text = line[1..];
                onComment(!text.IsEmpty && text[0] == (byte)' ' ? text[1..] : text);
            }

            return;
        }

        int colon = line.IndexOf((byte)':');
        ReadOnlySpan<byte> field = colon < 0 ? line : line[..colon];
        ReadOnlySpan<byte> value = colon < 0 ? default : line[(colon + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
        {
            value = value[1..];
        }

        if (field.SequenceEqual("data"u8))
        {
            if (_hasData)
            {
                Append(ref _data, ref _dataLength, "\n"u8);
            }

            Append(ref _data, ref _dataLength, value);
            _hasData = true;
        }
        else if (field.SequenceEqual("event"u8))
        {
            _eventNameLength = Math.Min(value.Length, _eventName.Length);
            value[.._eventNameLength].CopyTo(_eventName);
        }
        else if (field.SequenceEqual("id"u8))
        {
            _idLength = Math.Min(value.Length, _id.Length);
            value[.._idLength].CopyTo(_id);
        }

        // "retry" and unknown fields are ignored.
    }

    private void Dispatch()
    {
        if (_hasData)
        {
            Dispatched++;
            onEvent(_eventName.AsSpan(0, _eventNameLength), _id.AsSpan(0, _idLength), _data.AsSpan(0, _dataLength));
        }

        _hasData = false;
        _dataLength = 0;
        _eventNameLength = 0;
    }

    private static void Append(ref byte[] buffer, ref int length, ReadOnlySpan<byte> bytes)
    {
        if (length + bytes.Length > buffer.Length)
        {
            Array.Resize(ref buffer, Math.Max(buffer.Length * 2, length + bytes.Length));
        }

        bytes.CopyTo(buffer.AsSpan(length));
        length += bytes.Length;
    }
}
