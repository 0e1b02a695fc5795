using MissionControl.InternalAuth;

namespace MissionControl.UnitTests;

public sealed class PrincipalTests
{
    private static readonly Guid BoardA = Guid.NewGuid(), BoardB = Guid.NewGuid();

    [Fact]
    public void All_boards_flags_grant_every_board()
    {
        var reader = User(Roles.Member) with { AllBoardsRead = true };
        var writer = User(Roles.Member) with { AllBoardsWrite = true };

        Assert.True(reader.CanReadBoard(BoardA));
        Assert.False(reader.CanWriteBoard(BoardA));
        Assert.True(writer.CanReadBoard(BoardA));
        Assert.True(writer.CanWriteBoard(BoardB));
    }

    [Fact]
    public void Board_grants_apply_to_their_board_only()
    {
        var member = User(Roles.Member) with { Boards = [new BoardGrant(BoardA, true, false), new BoardGrant(BoardB, false, true)] };

        Assert.True(member.CanReadBoard(BoardA));
        Assert.False(member.CanWriteBoard(BoardA));
        Assert.True(member.CanReadBoard(BoardB));
        Assert.True(member.CanWriteBoard(BoardB));
        Assert.False(member.CanReadBoard(Guid.NewGuid()));
    }

    [Fact]
    public void Admin_role_does_not_imply_board_access()
    {
        var admin = User(Roles.Admin);

        Assert.True(admin.IsOrgAdmin);
        Assert.False(admin.CanReadBoard(BoardA));
    }

    [Fact]
    public void Agents_are_confined_to_their_board_and_services_to_none()
    {
        var agent = new McPrincipal { Kind = PrincipalKind.Agent, Subject = "agent-1", AgentBoardId = BoardA, AllBoardsWrite = true };
        var service = new McPrincipal { Kind = PrincipalKind.Service, Subject = "edge", AllBoardsRead = true };

        Assert.True(agent.CanWriteBoard(BoardA));
        Assert.False(agent.CanReadBoard(BoardB));
        Assert.False(agent.IsOrgAdmin);
        Assert.False(service.CanReadBoard(BoardA));
        Assert.Null(service.UserId);
    }

    private static McPrincipal User(string role) =>
        new() { Kind = PrincipalKind.User, Subject = Guid.NewGuid().ToString(), OrganizationId = Guid.NewGuid(), Role = role };
}
