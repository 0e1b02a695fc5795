using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Metrics.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TokenUsageByOrganization : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_token_usage_agent_id_occurred_at",
                table: "token_usage");

            migrationBuilder.DropIndex(
                name: "ix_token_usage_board_id_occurred_at",
                table: "token_usage");

            migrationBuilder.CreateIndex(
                name: "ix_token_usage_organization_id_agent_id_occurred_at",
                table: "token_usage",
                columns: new[] { "organization_id", "agent_id", "occurred_at" });

            migrationBuilder.CreateIndex(
                name: "ix_token_usage_organization_id_board_id_occurred_at",
                table: "token_usage",
                columns: new[] { "organization_id", "board_id", "occurred_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_token_usage_organization_id_agent_id_occurred_at",
                table: "token_usage");

            migrationBuilder.DropIndex(
                name: "ix_token_usage_organization_id_board_id_occurred_at",
                table: "token_usage");

            migrationBuilder.CreateIndex(
                name: "ix_token_usage_agent_id_occurred_at",
                table: "token_usage",
                columns: new[] { "agent_id", "occurred_at" });

            migrationBuilder.CreateIndex(
                name: "ix_token_usage_board_id_occurred_at",
                table: "token_usage",
                columns: new[] { "board_id", "occurred_at" });
        }
    }
}
