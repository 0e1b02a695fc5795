using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Metrics.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class EventLog : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "agent_copies",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    name = table.Column<string>(type: "TEXT", nullable: false),
                    is_board_lead = table.Column<bool>(type: "INTEGER", nullable: false),
                    last_seen_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agent_copies", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "approval_states",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    task_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    action_type = table.Column<string>(type: "TEXT", nullable: false),
                    confidence = table.Column<double>(type: "REAL", nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    resolved_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_approval_states", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "board_copies",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    name = table.Column<string>(type: "TEXT", nullable: false),
                    board_group_id = table.Column<Guid>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_board_copies", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "event_log_head",
                columns: table => new
                {
                    id = table.Column<int>(type: "INTEGER", nullable: false),
                    last_seq = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_event_log_head", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "events",
                columns: table => new
                {
                    seq = table.Column<long>(type: "INTEGER", nullable: false),
                    event_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    board_group_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    task_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    agent_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    topic = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    type = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    message = table.Column<string>(type: "TEXT", nullable: true),
                    audience = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    is_chat = table.Column<bool>(type: "INTEGER", nullable: false),
                    occurred_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    logged_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    data = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_events", x => x.seq);
                });

            migrationBuilder.CreateTable(
                name: "task_states",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    title = table.Column<string>(type: "TEXT", nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    deleted = table.Column<bool>(type: "INTEGER", nullable: false),
                    deleted_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_task_states", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "task_status_history",
                columns: table => new
                {
                    seq = table.Column<long>(type: "INTEGER", nullable: false),
                    task_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    from_status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    to_status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_task_status_history", x => x.seq);
                });

            migrationBuilder.CreateTable(
                name: "token_usage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    seq = table.Column<long>(type: "INTEGER", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    agent_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    task_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    gateway_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    model = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    input_tokens = table.Column<long>(type: "INTEGER", nullable: false),
                    output_tokens = table.Column<long>(type: "INTEGER", nullable: false),
                    source = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    run_id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    occurred_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    day = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_token_usage", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "webhook_subscriptions",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    events = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    description = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    disabled_reason = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    consecutive_failures = table.Column<int>(type: "INTEGER", nullable: false),
                    protected_secret = table.Column<string>(type: "TEXT", nullable: false),
                    cursor = table.Column<long>(type: "INTEGER", nullable: false),
                    lease_owner = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    lease_until = table.Column<DateTime>(type: "TEXT", nullable: true),
                    created_by = table.Column<Guid>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_subscriptions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "webhook_deliveries",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    subscription_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    event_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    event_type = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    seq = table.Column<long>(type: "INTEGER", nullable: true),
                    kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    body = table.Column<string>(type: "TEXT", nullable: false),
                    attempt_count = table.Column<int>(type: "INTEGER", nullable: false),
                    next_retry_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    redelivery_of = table.Column<Guid>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    completed_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_deliveries", x => x.id);
                    table.ForeignKey(
                        name: "fk_webhook_deliveries_webhook_subscriptions_subscription_id",
                        column: x => x.subscription_id,
                        principalTable: "webhook_subscriptions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "webhook_delivery_attempts",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    delivery_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    number = table.Column<int>(type: "INTEGER", nullable: false),
                    status_code = table.Column<int>(type: "INTEGER", nullable: true),
                    latency_ms = table.Column<long>(type: "INTEGER", nullable: false),
                    error = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    attempted_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_delivery_attempts", x => x.id);
                    table.ForeignKey(
                        name: "fk_webhook_delivery_attempts_webhook_deliveries_delivery_id",
                        column: x => x.delivery_id,
                        principalTable: "webhook_deliveries",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.InsertData(
                table: "event_log_head",
                columns: new[] { "id", "last_seq" },
                values: new object[] { 1, 0L });

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
                name: "ix_events_board_id_seq",
                table: "events",
                columns: new[] { "board_id", "seq" });

            migrationBuilder.CreateIndex(
                name: "ix_events_event_id",
                table: "events",
                column: "event_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_events_logged_at",
                table: "events",
                column: "logged_at");

            migrationBuilder.CreateIndex(
                name: "ix_events_organization_id_seq",
                table: "events",
                columns: new[] { "organization_id", "seq" });

            migrationBuilder.CreateIndex(
                name: "ix_events_task_id_seq",
                table: "events",
                columns: new[] { "task_id", "seq" });

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

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_subscription_id_created_at",
                table: "webhook_deliveries",
                columns: new[] { "subscription_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_subscription_id_status",
                table: "webhook_deliveries",
                columns: new[] { "subscription_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_delivery_attempts_delivery_id_number",
                table: "webhook_delivery_attempts",
                columns: new[] { "delivery_id", "number" });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_subscriptions_enabled",
                table: "webhook_subscriptions",
                column: "enabled");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_subscriptions_organization_id_created_at",
                table: "webhook_subscriptions",
                columns: new[] { "organization_id", "created_at" });
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
                name: "event_log_head");

            migrationBuilder.DropTable(
                name: "events");

            migrationBuilder.DropTable(
                name: "task_states");

            migrationBuilder.DropTable(
                name: "task_status_history");

            migrationBuilder.DropTable(
                name: "token_usage");

            migrationBuilder.DropTable(
                name: "webhook_delivery_attempts");

            migrationBuilder.DropTable(
                name: "webhook_deliveries");

            migrationBuilder.DropTable(
                name: "webhook_subscriptions");
        }
    }
}
