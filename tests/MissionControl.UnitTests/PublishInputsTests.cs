extern alias apphost;

using apphost::MissionControl.AppHost;

namespace MissionControl.UnitTests;

/// <summary>The warm start's skip of an unneeded publish: which changes count as new inputs, and which do not.</summary>
public sealed class PublishInputsTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("mc-inputs-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void A_source_edit_a_new_file_a_touched_file_or_a_changed_props_file_is_a_new_fingerprint()
    {
        var source = Write("services/tasks/Tasks.cs", "class Tasks {}");
        Write("libs/Messaging/Outbox.cs", "class Outbox {}");
        Write("Directory.Build.props", "<Project />");
        var first = PublishInputs.Fingerprint(_root.FullName);
        Assert.Equal(first, PublishInputs.Fingerprint(_root.FullName));

        File.WriteAllText(source, "class Tasks { int x; }");
        var edited = PublishInputs.Fingerprint(_root.FullName);
        Assert.NotEqual(first, edited);

        // Same length, older time: a file restored from a copy or an older checkout.
        File.SetLastWriteTimeUtc(source, DateTime.UtcNow.AddDays(-3));
        var restored = PublishInputs.Fingerprint(_root.FullName);
        Assert.NotEqual(edited, restored);

        Write("ServiceDefaults/New.cs", "class New {}");
        var added = PublishInputs.Fingerprint(_root.FullName);
        Assert.NotEqual(restored, added);

        Write("Directory.Build.props", "<Project> </Project>");
        Assert.NotEqual(added, PublishInputs.Fingerprint(_root.FullName));
    }

    [Fact]
    public void Build_outputs_and_files_outside_the_app_sources_are_not_inputs()
    {
        Write("services/tasks/Tasks.cs", "class Tasks {}");
        var before = PublishInputs.Fingerprint(_root.FullName);
        Write("services/tasks/obj/project.assets.json", "{}");
        Write("services/tasks/bin/Release/Tasks.dll", "binary");
        Write("tests/Some.Tests/Test.cs", "class Test {}");
        Write(".mc/data/tasks.db", "data");
        Write("artifacts/publish/MissionControl.Tasks/x.dll", "published");
        Assert.Equal(before, PublishInputs.Fingerprint(_root.FullName));
    }

    [Fact]
    public void Only_the_recorded_fingerprint_is_up_to_date()
    {
        var paths = new AppHostPaths(_root.FullName);
        Write("services/tasks/Tasks.cs", "class Tasks {}");
        var fingerprint = PublishInputs.Fingerprint(_root.FullName);
        Assert.False(PublishInputs.UpToDate(paths, fingerprint)); // never published
        PublishInputs.Record(paths, fingerprint);
        Assert.True(PublishInputs.UpToDate(paths, fingerprint));
        Write("services/tasks/More.cs", "class More {}");
        Assert.False(PublishInputs.UpToDate(paths, PublishInputs.Fingerprint(_root.FullName)));
    }

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_root.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }
}
