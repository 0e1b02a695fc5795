using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Metrics.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ReadModels : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "agent_copies",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    board_id = table.Column<Guid>(type: "uuid", nullable: true),
                    name = table.Column<string>(type: "text", nullable: false),
                    is_board_lead = table.Column<bool>(type: "boolean", nullable: false),
                    last_seen_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agent_copies", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "approval_states",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    board_id = table.Column<Guid>(type: "uuid", nullable: false),
                    task_id = table.Column<Guid>(type: "uuid", nullable: true),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    action_type = table.Column<string>(type: "text", nullable: false),
                    confidence = table.Column<double>(type: "double precision", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    resolved_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_approval_states", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "board_copies",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    board_group_id = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_board_copies", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "task_states",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    board_id = table.Column<Guid>(type: "uuid", nullable: false),
                    title = table.Column<string>(type: "text", nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    deleted = table.Column<bool>(type: "boolean", nullable: false),
                    deleted_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_task_states", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "task_status_history",
                columns: table => new
                {
                    seq = table.Column<long>(type: "bigint", nullable: false),
                    task_id = table.Column<Guid>(type: "uuid", nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    board_id = table.Column<Guid>(type: "uuid", nullable: false),
                    from_status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    to_status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_task_status_history", x => x.seq);
                });

            migrationBuilder.CreateTable(
                name: "token_usage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    seq = table.Column<long>(type: "bigint", nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    agent_id = table.Column<Guid>(type: "uuid", nullable: true),
                    board_id = table.Column<Guid>(type: "uuid", nullable: true),
                    task_id = table.Column<Guid>(type: "uuid", nullable: true),
                    gateway_id = table.Column<Guid>(type: "uuid", nullable: true),
                    model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    input_tokens = table.Column<long>(type: "bigint", nullable: false),
                    output_tokens = table.Column<long>(type: "bigint", nullable: false),
                    source = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    run_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    occurred_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    day = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_token_usage", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_agent_copies_organization_id_board_id",
                table: "agent_copies",
                columns: new[] { "organization_id", "board_id" });

            migrationBuilder.CreateIndex(
                name: "ix_approval_states_organization_id_board_id_status",
                table: "approval_states",
                columns: new[] { "organization_id", "board_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_board_copies_organization_id_board_group_id",
                table: "board_copies",
                columns: new[] { "organization_id", "board_group_id" });

            migrationBuilder.CreateIndex(
                name: "ix_task_states_organization_id_board_id_status",
                table: "task_states",
                columns: new[] { "organization_id", "board_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_task_status_history_organization_id_board_id_at",
                table: "task_status_history",
                columns: new[] { "organization_id", "board_id", "at" });

            migrationBuilder.CreateIndex(
                name: "ix_task_status_history_task_id_seq",
                table: "task_status_history",
                columns: new[] { "task_id", "seq" });

            migrationBuilder.CreateIndex(
                name: "ix_token_usage_agent_id_occurred_at",
                table: "token_usage",
                columns: new[] { "agent_id", "occurred_at" });

            migrationBuilder.CreateIndex(
                name: "ix_token_usage_board_id_occurred_at",
                table: "token_usage",
                columns: new[] { "board_id", "occurred_at" });

            migrationBuilder.CreateIndex(
                name: "ix_token_usage_organization_id_occurred_at",
                table: "token_usage",
                columns: new[] { "organization_id", "occurred_at" });

            migrationBuilder.CreateIndex(
                name: "ix_token_usage_task_id",
                table: "token_usage",
                column: "task_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "agent_copies");

            migrationBuilder.DropTable(
                name: "approval_states");

            migrationBuilder.DropTable(
                name: "board_copies");

            migrationBuilder.DropTable(
                name: "task_states");

            migrationBuilder.DropTable(
                name: "task_status_history");

            migrationBuilder.DropTable(
                name: "token_usage");
        }
    }
}
