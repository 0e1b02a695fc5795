using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Agents.Data.Migrations.Postgres
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
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    board_id = table.Column<Guid>(type: "uuid", nullable: true),
                    gateway_id = table.Column<Guid>(type: "uuid", nullable: true),
                    name = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    heartbeat_config = table.Column<string>(type: "text", nullable: true),
                    identity_profile = table.Column<string>(type: "text", nullable: true),
                    identity_template = table.Column<string>(type: "text", nullable: true),
                    soul_template = table.Column<string>(type: "text", nullable: true),
                    is_board_lead = table.Column<bool>(type: "boolean", nullable: false),
                    is_gateway_main = table.Column<bool>(type: "boolean", nullable: false),
                    gateway_agent_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    session_key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    workspace_path = table.Column<string>(type: "text", nullable: true),
                    token_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    last_seen_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    provision_generation = table.Column<long>(type: "bigint", nullable: false),
                    provision_action = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    provision_issue_token = table.Column<bool>(type: "boolean", nullable: false),
                    provision_wake = table.Column<bool>(type: "boolean", nullable: false),
                    provision_attempts = table.Column<int>(type: "integer", nullable: false),
                    provision_deadline_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    provision_retry_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    last_provision_error = table.Column<string>(type: "text", nullable: true),
                    published_status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    presence_expires_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agents", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "boards",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    description = table.Column<string>(type: "text", nullable: false),
                    gateway_id = table.Column<Guid>(type: "uuid", nullable: true),
                    board_type = table.Column<string>(type: "text", nullable: false),
                    objective = table.Column<string>(type: "text", nullable: true),
                    success_metrics = table.Column<string>(type: "text", nullable: true),
                    target_date = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    goal_confirmed = table.Column<bool>(type: "boolean", nullable: false),
                    require_approval_for_done = table.Column<bool>(type: "boolean", nullable: false),
                    require_review_before_done = table.Column<bool>(type: "boolean", nullable: false),
                    comment_required_for_review = table.Column<bool>(type: "boolean", nullable: false),
                    block_status_changes_with_pending_approval = table.Column<bool>(type: "boolean", nullable: false),
                    only_lead_can_change_status = table.Column<bool>(type: "boolean", nullable: false),
                    max_agents = table.Column<int>(type: "integer", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_boards", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "gateways",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    url = table.Column<string>(type: "text", nullable: false),
                    workspace_root = table.Column<string>(type: "text", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
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
