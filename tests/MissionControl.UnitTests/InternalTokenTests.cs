using Microsoft.Extensions.Time.Testing;
using MissionControl.InternalAuth;

namespace MissionControl.UnitTests;

public sealed class InternalTokenTests
{
    private static readonly McPrincipal Owner = new()
    {
        Kind = PrincipalKind.User, Subject = Guid.NewGuid().ToString(), OrganizationId = Guid.NewGuid(), Role = Roles.Owner,
        AllBoardsRead = true, AllBoardsWrite = true, Boards = [new BoardGrant(Guid.NewGuid(), true, false)],
    };

    [Fact]
    public void A_signed_token_validates_to_the_same_principal()
    {
        var (signing, verification) = InternalKeys.Generate();
        using var signer = new InternalTokenSigner(signing);
        using var validator = new InternalTokenValidator(verification);

        var principal = validator.Validate(signer.Sign(Owner));

        Assert.NotNull(principal);
        Assert.Equal(Owner with { Boards = [] }, principal with { Boards = [] });
        Assert.Equal(Owner.Boards, principal.Boards);
    }

    [Fact]
    public void A_token_signed_with_another_key_is_refused()
    {
        using var signer = new InternalTokenSigner(InternalKeys.Generate().SigningKey);
        using var validator = new InternalTokenValidator(InternalKeys.Generate().VerificationKey);

        Assert.Null(validator.Validate(signer.Sign(Owner)));
    }

    [Fact]
    public void A_tampered_payload_is_refused()
    {
        var (signing, verification) = InternalKeys.Generate();
        using var signer = new InternalTokenSigner(signing);
        using var validator = new InternalTokenValidator(verification);
        var token = signer.Sign(Owner with { Role = Roles.Member, AllBoardsWrite = false });
        var forged = signer.Sign(Owner);
        // Splice the owner's payload onto the member's signature.
        var tampered = forged[..forged.IndexOf('.')] + token[token.IndexOf('.')..];

        Assert.Null(validator.Validate(tampered));
        Assert.Null(validator.Validate("not-a-token"));
        Assert.Null(validator.Validate("a.b"));
    }

    [Fact]
    public void An_expired_token_is_refused_even_after_it_was_cached()
    {
        var (signing, verification) = InternalKeys.Generate();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var signer = new InternalTokenSigner(signing, time);
        using var validator = new InternalTokenValidator(verification, time);
        var token = signer.Sign(Owner);
        Assert.NotNull(validator.Validate(token));

        time.Advance(InternalTokenSigner.Lifetime + TimeSpan.FromSeconds(1));

        Assert.Null(validator.Validate(token));
    }

    [Fact]
    public void The_signer_reuses_a_fresh_token_and_renews_an_aging_one()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var signer = new InternalTokenSigner(InternalKeys.Generate().SigningKey, time);
        var first = signer.Sign(Owner);
        Assert.Equal(first, signer.Sign(Owner with { Boards = [.. Owner.Boards] }));
        Assert.NotEqual(first, signer.Sign(Owner with { Role = Roles.Admin }));

        time.Advance(InternalTokenSigner.Lifetime / 2 + TimeSpan.FromSeconds(1));

        Assert.NotEqual(first, signer.Sign(Owner));
    }
}
