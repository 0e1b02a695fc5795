using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Agents.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Agents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "agents",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    gateway_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    name = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    heartbeat_config = table.Column<string>(type: "TEXT", nullable: true),
                    identity_profile = table.Column<string>(type: "TEXT", nullable: true),
                    identity_template = table.Column<string>(type: "TEXT", nullable: true),
                    soul_template = table.Column<string>(type: "TEXT", nullable: true),
                    is_board_lead = table.Column<bool>(type: "INTEGER", nullable: false),
                    is_gateway_main = table.Column<bool>(type: "INTEGER", nullable: false),
                    gateway_agent_id = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    session_key = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    workspace_path = table.Column<string>(type: "TEXT", nullable: true),
                    token_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    last_seen_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    provision_generation = table.Column<long>(type: "INTEGER", nullable: false),
                    provision_action = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    provision_issue_token = table.Column<bool>(type: "INTEGER", nullable: false),
                    provision_wake = table.Column<bool>(type: "INTEGER", nullable: false),
                    provision_attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    provision_deadline_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    provision_retry_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    last_provision_error = table.Column<string>(type: "TEXT", nullable: true),
                    published_status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    presence_expires_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agents", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "boards",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    description = table.Column<string>(type: "TEXT", nullable: false),
                    gateway_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    board_type = table.Column<string>(type: "TEXT", nullable: false),
                    objective = table.Column<string>(type: "TEXT", nullable: true),
                    success_metrics = table.Column<string>(type: "TEXT", nullable: true),
                    target_date = table.Column<DateTime>(type: "TEXT", nullable: true),
                    goal_confirmed = table.Column<bool>(type: "INTEGER", nullable: false),
                    require_approval_for_done = table.Column<bool>(type: "INTEGER", nullable: false),
                    require_review_before_done = table.Column<bool>(type: "INTEGER", nullable: false),
                    comment_required_for_review = table.Column<bool>(type: "INTEGER", nullable: false),
                    block_status_changes_with_pending_approval = table.Column<bool>(type: "INTEGER", nullable: false),
                    only_lead_can_change_status = table.Column<bool>(type: "INTEGER", nullable: false),
                    max_agents = table.Column<int>(type: "INTEGER", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_boards", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "gateways",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    url = table.Column<string>(type: "TEXT", nullable: false),
                    workspace_root = table.Column<string>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_gateways", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_agents_board_id",
                table: "agents",
                column: "board_id");

            migrationBuilder.CreateIndex(
                name: "ix_agents_gateway_id",
                table: "agents",
                column: "gateway_id");

            migrationBuilder.CreateIndex(
                name: "ix_agents_organization_id_board_id",
                table: "agents",
                columns: new[] { "organization_id", "board_id" });

            migrationBuilder.CreateIndex(
                name: "ix_agents_presence_expires_at",
                table: "agents",
                column: "presence_expires_at");

            migrationBuilder.CreateIndex(
                name: "ix_agents_status",
                table: "agents",
                column: "status");

            migrationBuilder.CreateIndex(
                name: "ix_agents_token_hash",
                table: "agents",
                column: "token_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_boards_organization_id",
                table: "boards",
                column: "organization_id");

            migrationBuilder.CreateIndex(
                name: "ix_gateways_organization_id",
                table: "gateways",
                column: "organization_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "agents");

            migrationBuilder.DropTable(
                name: "boards");

            migrationBuilder.DropTable(
                name: "gateways");
        }
    }
}
